#!/bin/bash
# Creates the user sluice connects as, with the password in
# SLUICE_DB_PASSWORD (set by docker-compose.yml for both this container and
# sluice's, so the two cannot disagree). The mysql image runs this once, after
# mysql-init.sql, when its data volume is empty. It is a script rather than
# SQL because an .sql init file cannot read the environment.
#
# mysql_native_password, not MySQL 8.4's default caching_sha2_password: with
# caching_sha2_password the first login (and the first after every server
# restart, which empties the server's cache) is a "full authentication" that
# needs TLS or an RSA key exchange; libmariadb can do both (its
# caching_sha2_password plugin asks the server for its public key), but that
# puts TLS setup, the client plugin file and the server's key pair on the
# demo's path. mysql_native_password is a plain challenge-response that
# libmariadb has built in. MySQL 8.4 disables that plugin by default, so
# docker-compose.yml starts mysqld with --mysql-native-password=ON.
# MySQL 9 removes the plugin; there, and in production, keep
# caching_sha2_password (with ssl.mode: verify-ca for TLS).

# Sourced by the image's entrypoint (bash) unless this file is executable: no
# "set -u" here, it would carry over into the entrypoint; a failure exits,
# which stops the initialisation rather than leave MySQL without the user.
if [ -z "${SLUICE_DB_PASSWORD:-}" ]; then
	echo "mysql-init-user.sh: SLUICE_DB_PASSWORD is not set" >&2
	exit 1
fi

# The password as an SQL string literal: double \ and '.
sluice_pw_sql=$(printf '%s' "$SLUICE_DB_PASSWORD" | sed -e 's/\\/\\\\/g' -e "s/'/''/g")

sluice_user_sql="
CREATE USER 'sluice'@'%' IDENTIFIED WITH mysql_native_password BY '${sluice_pw_sql}';
GRANT REPLICATION SLAVE, REPLICATION CLIENT, SELECT ON *.* TO 'sluice'@'%';
"

if declare -F docker_process_sql >/dev/null; then
	# Sourced: the entrypoint's helper, which knows the socket and root password.
	docker_process_sql --database=mysql <<<"$sluice_user_sql" || exit 1
else
	# Executed (the file is executable): the same through the mysql client.
	MYSQL_PWD="$MYSQL_ROOT_PASSWORD" mysql --protocol=socket -uroot --database=mysql \
		<<<"$sluice_user_sql" || exit 1
fi
unset sluice_pw_sql sluice_user_sql
