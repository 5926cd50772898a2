# ~/.bashrc: executed by bash for interactive shells. The prompt and the shell integration are set
# in /etc/bash.bashrc; setting PS1 here keeps working (the integration re-attaches itself).
case $- in *i*) ;; *) return ;; esac

HISTCONTROL=ignoreboth
HISTSIZE=1000
HISTFILESIZE=2000
shopt -s histappend

export EDITOR=vim PAGER=less LESS=-R

alias ls='ls --color=auto'
alias grep='grep --color=auto'
alias ll='ls -alF'
alias la='ls -A'
alias l='ls -CF'

[ -f ~/.bash_aliases ] && . ~/.bash_aliases
