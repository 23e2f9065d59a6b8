#!/usr/bin/env bash
# The postgres stand-in's entrypoint: the documented behaviour of the official image's
# docker-entrypoint.sh, kept small. On the first start only (no PG_VERSION in PGDATA) it runs
# initdb with POSTGRES_USER / POSTGRES_PASSWORD, creates POSTGRES_DB, runs
# /docker-entrypoint-initdb.d, and allows password (scram-sha-256) logins from any address.
# Started as root it prepares PGDATA and drops to the postgres user; started as any other user it
# needs PGDATA (or its parent) writable by that user, as with the official image.
set -Eeuo pipefail

# VAR_FILE support, as the official image: POSTGRES_PASSWORD_FILE=/run/secrets/... etc.
file_env() {
	local var="$1" fileVar="${1}_FILE" def="${2:-}"
	if [ "${!var:-}" ] && [ "${!fileVar:-}" ]; then
		echo >&2 "error: both $var and $fileVar are set (but are exclusive)"
		exit 1
	fi
	local val="$def"
	if [ "${!var:-}" ]; then
		val="${!var}"
	elif [ "${!fileVar:-}" ]; then
		val="$(< "${!fileVar}")"
	fi
	export "$var"="$val"
	unset "$fileVar"
}

if [ "${1:0:1}" = '-' ]; then
	set -- postgres "$@"
fi

# As upstream: `postgres --version`, `--help`, `-C setting` and the like need no database.
want_help() {
	local arg
	for arg; do
		case "$arg" in
			-'?'|--help|--describe-config|-V|--version|-C|-C*) return 0 ;;
		esac
	done
	return 1
}

if [ "$1" != 'postgres' ] || want_help "$@"; then
	exec "$@"
fi

if [ "$(id -u)" = '0' ]; then
	mkdir -p "$PGDATA" /var/run/postgresql
	chown postgres:postgres "$PGDATA"
	chmod 00700 "$PGDATA"
	chown -R postgres:postgres /var/run/postgresql
	chmod 03775 /var/run/postgresql
	exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
fi

mkdir -p "$PGDATA"
chmod 00700 "$PGDATA" || :

if [ ! -s "$PGDATA/PG_VERSION" ]; then
	file_env POSTGRES_PASSWORD
	file_env POSTGRES_USER postgres
	file_env POSTGRES_DB "$POSTGRES_USER"
	file_env POSTGRES_INITDB_ARGS
	: "${POSTGRES_HOST_AUTH_METHOD:=scram-sha-256}"

	if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != 'trust' ]; then
		cat >&2 <<-'EOE'
			Error: Database is uninitialized and superuser password is not specified.
			       You must specify POSTGRES_PASSWORD to a non-empty value for the
			       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".
		EOE
		exit 1
	fi

	# The official image needs an /etc/passwd entry for initdb; it fakes one with nss_wrapper for
	# arbitrary uids. This stand-in supports the users the image has (postgres, 999) and says so.
	if ! getent passwd "$(id -u)" > /dev/null; then
		echo >&2 "error: uid $(id -u) has no passwd entry in this stand-in image; run as 999 (postgres) or root"
		exit 1
	fi

	# shellcheck disable=SC2086  # POSTGRES_INITDB_ARGS is word-split on purpose, as upstream
	initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") $POSTGRES_INITDB_ARGS
	printf '\nhost all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD" >> "$PGDATA/pg_hba.conf"
	# Debian's builds (the official image's) put the socket here by default; these binaries would
	# use /tmp, and initdb rewrites that line of the sample, so it is set after initdb.
	printf "\nunix_socket_directories = '/var/run/postgresql'\n" >> "$PGDATA/postgresql.conf"

	# A temporary server on the socket only, so nothing can connect before initialisation ends.
	PGUSER="$POSTGRES_USER" pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w start
	export PGPASSWORD="$POSTGRES_PASSWORD" PGHOST=/var/run/postgresql PGPORT=5432
	psql=(psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc)
	if [ "$POSTGRES_DB" != 'postgres' ]; then
		"${psql[@]}" --dbname postgres --set db="$POSTGRES_DB" <<-'EOSQL'
			CREATE DATABASE :"db" ;
		EOSQL
	fi
	shopt -s nullglob
	for f in /docker-entrypoint-initdb.d/*; do
		case "$f" in
			*.sh) echo "running $f"; . "$f" ;;
			*.sql) echo "running $f"; "${psql[@]}" --dbname "$POSTGRES_DB" -f "$f" ;;
			*) echo "ignoring $f" ;;
		esac
	done
	PGUSER="$POSTGRES_USER" pg_ctl -D "$PGDATA" -m fast -w stop
	unset PGPASSWORD PGHOST PGPORT
	echo 'PostgreSQL init process complete; ready for start up.'
fi

exec "$@"
