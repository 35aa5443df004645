#!/usr/bin/env bash
# A PostgreSQL for the question-log tests, on 127.0.0.1:5432 only: use one that is listening, or
# start Debian's cluster (installing postgresql if missing). Prints the URL the tests read
# (MINGBAI_TEST_PG_URL). Needs root to install or start the cluster.
set -euo pipefail
ROLE=mingbai_ci
PASSWORD=mingbai_ci_pw
DB=mingbai_test
listening() { (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; }
if ! listening; then
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >/dev/null
  fi
  version=$(ls /etc/postgresql | sort -n | tail -1)
  if ! pg_lsclusters -h | grep -q "^$version main"; then
    pg_createcluster "$version" main >&2
  fi
  sed -i "s/^#\?listen_addresses.*/listen_addresses = '127.0.0.1'/" \
    "/etc/postgresql/$version/main/postgresql.conf"
  pg_ctlcluster "$version" main start >&2
  for _ in $(seq 1 30); do listening && break; sleep 1; done
fi
su postgres -c "psql -q -v ON_ERROR_STOP=1" >&2 <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$ROLE') THEN
    CREATE ROLE $ROLE LOGIN PASSWORD '$PASSWORD';
  END IF;
END \$\$;
SQL
if ! su postgres -c "psql -tAc \"SELECT 1 FROM pg_database WHERE datname = '$DB'\"" | grep -q 1; then
  su postgres -c "createdb -O $ROLE $DB" >&2
fi
echo "postgresql+psycopg://$ROLE:$PASSWORD@127.0.0.1:5432/$DB"
