/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  serverExternalPackages: ['better-sqlite3', '@xterm/headless', 'pino'],
  // The custom server owns /socket.io, /yjs, /vm and /api (but /api/auth); Next serves pages. Security
  // headers (CSP, COOP/COEP, nosniff, Referrer-Policy) are set on every response by the custom
  // server (server/http/security.ts), in one place for pages and its own routes.
};

export default nextConfig;
