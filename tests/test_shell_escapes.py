"""Code-execution escapes in ordinary tools' arguments."""

from __future__ import annotations

import pytest
from shell_util import kinds


@pytest.mark.parametrize("cmd", [
    "vim -c '!id'", "vi -c ':!sh'", "vim +'!id' f", "awk 'BEGIN{system(\"id\")}'", "awk '{print | \"sh\"}' f",
    "man -P 'sh -c id' ls", "tar cf x.tar --checkpoint=1 --checkpoint-action=exec=id src", "tar xf x --to-command=id",
    "tar -I 'sh -c id' -cf x .", "zip x.zip f -T -TT id", "ssh -o ProxyCommand='id' h", "ssh -oProxyCommand=id h",
    "rsync -e 'sh -c id' h:/ .", "rg --pre id x", "sed 's/a/b/e' f", "sed '1e id' f", "gdb -ex '!id'",
    "gdb -batch -ex 'python import os'", "expect -c 'spawn id'", "make --eval 'x:'", "sqlite3 db '.shell id'",
    "git -c core.pager='sh -c id' log", "sort --compress-program=id f", "split --filter=id f", "less +'!id' f",
    "tmux send-keys 'id' Enter", "emacs --batch --eval '(x)'", "git difftool -x id",
])
def test_escapes(cmd):
    assert "exec.escape" in kinds(cmd), (cmd, kinds(cmd))


@pytest.mark.parametrize("cmd", ["vim f.txt", "awk '{print $1}' f", "tar czf out.tgz src", "sed -i 's/a/b/' f",
                                 "rg -n foo src", "ssh -i ~/.ssh/id_ed25519 host", "make -j4 test", "man ls",
                                 "zip -r out.zip src", "sqlite3 db 'select 1'", "git log"])
def test_ordinary_use_is_not_an_escape(cmd):
    assert "exec.escape" not in kinds(cmd), (cmd, kinds(cmd))


def test_escaped_catastrophic_command_is_still_found():
    for cmd in ["vim -c '!rm -rf ~'", "awk 'BEGIN{system(\"rm -rf ~\")}'", "rg --pre 'rm -rf ~' x",
                "tar cf /dev/null x --checkpoint=1 --checkpoint-action=exec='rm -rf ~'", "ssh -o ProxyCommand='rm -rf ~' h"]:
        assert "fs.critical" in kinds(cmd), cmd
