"""Cloud, containers, databases, packages and system control."""

from __future__ import annotations

import pytest
from shell_util import kinds


@pytest.mark.parametrize("cmd,kind", [
    ("terraform destroy -auto-approve", "cloud.destroy"), ("terraform apply", "cloud.mutate"),
    ("terraform plan", "cloud.read"), ("kubectl delete ns prod", "cloud.destroy"), ("kubectl delete pod x", "cloud.delete"),
    ("kubectl get pods", "cloud.read"), ("kubectl get secret s -o yaml", "secret.read"),
    ("kubectl exec -it p -- sh", "cloud.exec"), ("helm uninstall app", "cloud.delete"),
    ("aws s3 rm s3://b --recursive", "cloud.destroy"), ("aws s3 ls", "cloud.read"),
    ("aws ec2 terminate-instances --instance-ids i-1", "cloud.destroy"),
    ("aws secretsmanager get-secret-value --secret-id x", "secret.read"), ("aws s3 cp f.txt s3://b/", "net.upload"),
    ("gcloud projects delete p", "cloud.destroy"), ("gcloud auth print-access-token", "secret.read"),
    ("az group delete -n rg", "cloud.destroy"), ("docker run --privileged x", "container.privileged"),
    ("docker run -v /:/host x", "container.host_mount"), ("docker run --pid=host x", "container.privileged"),
    ("docker system prune -af --volumes", "cloud.destroy"), ("docker rm -f c", "container.delete"),
    ("psql -c 'DROP TABLE users'", "db.destroy"), ("mysql -e 'drop database prod'", "db.destroy"),
    ("redis-cli flushall", "db.destroy"), ("psql -c 'DELETE FROM t'", "db.destroy"),
    ("echo 'TRUNCATE t;' | psql", "db.destroy"), ("dropdb prod", "db.destroy"), ("psql -h db -c 'select 1'", "db.connect"),
    ("gh repo delete o/r", "cloud.destroy"), ("gh auth token", "secret.read"), ("gh pr list", "cloud.read"),
])
def test_infra(cmd, kind):
    assert kind in kinds(cmd), (cmd, kinds(cmd))


def test_command_inside_a_pod_is_analyzed():
    assert "fs.critical" in kinds("kubectl exec -it pod -- rm -rf /")
    assert "fs.critical" in kinds("docker exec c rm -rf /")


def test_delete_where_is_not_destroy():
    assert "db.destroy" not in kinds("psql -c 'DELETE FROM t WHERE id = 1'")


@pytest.mark.parametrize("cmd,kind", [
    ("pip install requests", "pkg.install"), ("npm install left-pad", "pkg.install"), ("npm i -g x", "pkg.install"),
    ("sudo apt-get install -y jq", "pkg.install"), ("brew install wget", "pkg.install"), ("cargo install rg", "pkg.install"),
    ("uv add httpx", "pkg.install"), ("poetry add x", "pkg.install"), ("apt-get remove x", "pkg.uninstall"),
    ("npm publish", "pkg.publish"), ("twine upload dist/*", "pkg.publish"), ("docker push x", "pkg.publish"),
    ("npx -y create-x", "exec.remote_package"), ("uvx tool", "exec.remote_package"), ("pnpm dlx x", "exec.remote_package"),
    ("npm ci", "pkg.install_project"), ("pip install -r requirements.txt", "pkg.install_project"),
    ("pip install -e .", "pkg.install_project"), ("yarn", "pkg.install_project"), ("npx tsc", "exec.package_bin"),
])
def test_packages(cmd, kind):
    assert kind in kinds(cmd), (cmd, kinds(cmd))


@pytest.mark.parametrize("cmd,kind", [
    ("shutdown -h now", "sys.power"), ("systemctl reboot", "sys.power"), ("init 0", "sys.power"),
    ("systemctl restart nginx", "sys.service"), ("systemctl enable x", "persist.service"),
    ("kill -9 -1", "sys.kill_all"), ("killall node", "sys.kill"), ("mkfs.ext4 /dev/sdb1", "sys.format"),
    ("wipefs -a /dev/sda", "sys.format"), ("mount /dev/sdb1 /mnt", "sys.mount"), ("iptables -F", "sys.security_off"),
    ("iptables -A INPUT -j DROP", "sys.firewall"), ("useradd bob", "sys.users"), ("usermod -aG sudo bob", "priv.grant"),
    ("visudo", "sys.auth_write"), ("crontab -r", "persist.cron"), ("echo '* * * * * x' | crontab -", "persist.cron"),
    ("modprobe x", "sys.kernel"), ("setenforce 0", "sys.security_off"), ("history -c", "sys.history_tamper"),
    ("unset HISTFILE", "sys.history_tamper"), ("export HISTFILE=/dev/null", "sys.history_tamper"),
    ("chmod u+s ./x", "priv.setuid"), ("chmod 4755 ./x", "priv.setuid"), ("setcap cap_setuid+ep x", "priv.setuid"),
    ("alias ls='rm -rf'", "shell.alias"), ("journalctl --vacuum-time=1s", "sys.log_tamper"),
    ("date -s 2020-01-01", "sys.config"), ("xdg-open http://x", "exec.open"),
])
def test_system(cmd, kind):
    assert kind in kinds(cmd), (cmd, kinds(cmd))


@pytest.mark.parametrize("cmd", ["systemctl status nginx", "crontab -l", "kill 1234", "fdisk -l", "iptables -L",
                                 "date", "hostname", "sysctl -a", "journalctl -u x"])
def test_system_inspection_is_quiet(cmd):
    quiet = {k for k in kinds(cmd) if k.startswith(("sys.", "persist.", "priv."))}
    assert not quiet, (cmd, quiet)


def test_deferred_commands_are_analyzed():
    assert "fs.critical" in kinds("echo '* * * * * rm -rf ~' | crontab -")
    assert "fs.critical" in kinds("echo 'rm -rf /' | at now")
    assert "fs.critical" in kinds("trap 'rm -rf ~' EXIT")
