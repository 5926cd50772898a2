# /etc/bash.bashrc: read by every interactive bash (login shells through /etc/profile).
# Tandem disk: a plain prompt plus the shell-integration marks the host reads.
[ -z "${PS1-}" ] && return

shopt -s checkwinsize
PS1='\u@\h:\w\$ '

# Shell integration (OSC 133), the same marks the busybox guest emits, plus C:
#   ESC]133;D;<exit>BEL  the previous command finished with <exit>
#   ESC]133;A BEL        the prompt starts        ESC]133;B BEL  the prompt ends, input starts
#   ESC]133;C BEL        the command read at the prompt starts executing (PS0)
# Nothing visible is printed; terminals that do not know OSC 133 ignore it.
# D and A come from PROMPT_COMMAND, which runs once per prompt, so a readline redraw (Ctrl-L)
# does not announce a second "command finished". $? is taken first thing, before anything else
# can change it, and handed on unchanged. B is kept at the end of PS1 even if ~/.bashrc or the
# user sets a new PS1 later: it is re-appended before each prompt when missing.
__tandem_prompt() {
  local status=$?
  printf '\033]133;D;%s\007\033]133;A\007' "$status"
  case $PS1 in
    *'\[\e]133;B\a\]') ;;
    *) PS1+='\[\e]133;B\a\]' ;;
  esac
  return "$status"
}
case ";${PROMPT_COMMAND-};" in
  *';__tandem_prompt;'*) ;;
  *) PROMPT_COMMAND="__tandem_prompt${PROMPT_COMMAND:+;$PROMPT_COMMAND}" ;;
esac
# PS0 is printed after a command line is read, before it runs. It is not part of the prompt
# readline measures, so it takes no \[ \] (bash would print those as raw \001 \002 bytes).
PS0='\e]133;C\a'
