#!/usr/bin/env bash
# Sourced by .ci/run as root: a local PostgreSQL (Debian package) on 127.0.0.1 only, with a
# role and database for the store and API tests. Idempotent. Exports REINTEGRA_TEST_POSTGRES_URL.

_pg_setup() {
    local user=reintegra_test password=reintegra_test db=reintegra_test version port
    if ! command -v pg_ctlcluster >/dev/null 2>&1; then
        echo "installing postgresql"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    fi
    version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
    if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "$version main"; then
        pg_createcluster "$version" main >/dev/null
    fi
    # Loopback only: nothing outside this machine can reach the test database.
    printf "listen_addresses = '127.0.0.1'\n" >"/etc/postgresql/$version/main/conf.d/reintegra-loopback.conf"
    port=$(pg_lsclusters -h | awk -v v="$version" '$1==v && $2=="main" {print $3}')
    if ! pg_lsclusters -h | awk -v v="$version" '$1==v && $2=="main" {print $4}' | grep -qx online; then
        pg_ctlcluster "$version" main start
    fi
    for _ in $(seq 1 30); do
        pg_isready -q -h 127.0.0.1 -p "$port" && break
        sleep 1
    done
    pg_isready -h 127.0.0.1 -p "$port"
    runuser -u postgres -- psql -q -p "$port" -v ON_ERROR_STOP=1 <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$user') THEN
    CREATE ROLE $user LOGIN PASSWORD '$password';
  END IF;
END \$\$;
SELECT 'CREATE DATABASE $db OWNER $user'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$db')\gexec
SQL
    export REINTEGRA_TEST_POSTGRES_URL="postgresql+psycopg://$user:$password@127.0.0.1:$port/$db"
    echo "PostgreSQL $version on 127.0.0.1:$port, database $db"
}
_pg_setup
unset -f _pg_setup
