#!/bin/sh
# One-shot migration step (ECS task): bootstrap component roles, then apply migrations.
# Environment (set by the task definition; the secrets are injected by ECS from Secrets Manager):
#   PGHOST PGPORT PGDATABASE          the DB instance (not RDS Proxy)
#   MASTER_CREDENTIALS                {"username": ..., "password": ...} (RDS-managed secret)
#   URR_ROLES                         comma-separated component roles, e.g. urr_auth,urr_catalog
#   ROLE_CREDENTIALS_<ROLE>           {"username": ..., "password": ...} per role
set -eu

echo "urr-migrate: bootstrapping roles on $PGHOST/$PGDATABASE"
/opt/urr/bootstrap_roles.py

DATABASE_URL="$(/opt/urr/bootstrap_roles.py --print-master-url)"
export DATABASE_URL

echo "urr-migrate: applying migrations"
sqlx migrate run --source /opt/urr/migrations
sqlx migrate info --source /opt/urr/migrations
echo "urr-migrate: done"
