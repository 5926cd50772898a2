/** Engine facts both sides need: the server puts them in the page's config, the page loads the engine. */
/** CheerpX's npm package only re-exports its engine from the vendor CDN; we import it the same way. */
export const CHEERPX_VERSION = '1.3.9';
export const CHEERPX_URL = `https://cxrtnc.leaningtech.com/${CHEERPX_VERSION}/cx.esm.js`;
/** WebVM's public Debian image: the default disk when DISK_SOURCE is not set. */
export const DEFAULT_CHEERPX_DISK = 'wss://disks.webvm.io/debian_large_20230522_5044875331.ext2';
/** How long `auto` waits for CheerpX before falling back to v86. */
export const CHEERPX_LOAD_TIMEOUT_MS = 5000;
