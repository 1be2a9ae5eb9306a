"""The organisation loaded into the test PostgreSQL cluster.

Roles (login and not), nesting two levels deep, an ADMIN OPTION and a NOINHERIT membership, a
human superuser and a role that bypasses row-level security; a ``crm`` database with table,
column, PUBLIC and WITH GRANT OPTION privileges, default privileges, a row-level security
policy, a view, a sequence and a SECURITY DEFINER function; an ``hr`` database the audit
account may not connect to; and planted personal data for discovery (the same synthetic
values the labelled set in ``tests/discovery_labels/`` is made from).

The statements follow the PostgreSQL 15 manual: CREATE ROLE, GRANT (incl. column lists and
WITH ADMIN OPTION), ALTER DEFAULT PRIVILEGES, CREATE POLICY / ENABLE ROW LEVEL SECURITY.
"""

from __future__ import annotations

__all__ = ["AUDITOR", "AUDITOR_PASSWORD", "CLUSTER_SQL", "CRM_SQL", "HR_SQL"]

AUDITOR = "auditor"
AUDITOR_PASSWORD = "auditor-secret-42"

CLUSTER_SQL = f"""
CREATE ROLE {AUDITOR} LOGIN PASSWORD '{AUDITOR_PASSWORD}';
GRANT pg_read_all_data TO {AUDITOR};
CREATE ROLE readers NOLOGIN;
CREATE ROLE analysts NOLOGIN;
CREATE ROLE dba_team NOLOGIN CREATEROLE;
CREATE ROLE app_owner NOLOGIN;
CREATE ROLE alice LOGIN SUPERUSER PASSWORD 'alice-pw';
CREATE ROLE bob LOGIN PASSWORD 'bob-pw';
CREATE ROLE carol LOGIN BYPASSRLS PASSWORD 'carol-pw';
CREATE ROLE dave LOGIN NOINHERIT PASSWORD 'dave-pw';
CREATE ROLE erin LOGIN PASSWORD 'erin-pw' VALID UNTIL '2001-01-01';
CREATE ROLE svc_app LOGIN PASSWORD 'svc-pw';
CREATE ROLE team_lead LOGIN PASSWORD 'lead-pw';
GRANT readers TO analysts;
GRANT analysts TO bob;
GRANT analysts TO team_lead WITH ADMIN OPTION;
GRANT readers TO dave;
GRANT dba_team TO carol;
GRANT team_lead TO erin;
GRANT app_owner TO svc_app;
CREATE DATABASE crm OWNER app_owner;
CREATE DATABASE hr;
REVOKE CONNECT, TEMPORARY ON DATABASE hr FROM PUBLIC;
COMMENT ON ROLE readers IS 'read-only access to the CRM';
"""

CRM_SQL = """
CREATE SCHEMA sales AUTHORIZATION app_owner;
SET ROLE app_owner;
CREATE TABLE sales.customers (
    id serial PRIMARY KEY,
    full_name text, email text, phone text, ssn text, card_number text,
    birth_date date, street_address text, last_ip inet, notes text, status text
);
CREATE TABLE sales.orders (id serial PRIMARY KEY, customer_id int, amount numeric, owner_name name);
CREATE VIEW sales.v_orders AS SELECT id, amount FROM sales.orders;
CREATE FUNCTION sales.refund(order_id int) RETURNS void LANGUAGE sql SECURITY DEFINER
    AS 'SELECT 1';
ALTER TABLE sales.orders ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_orders ON sales.orders USING (owner_name = current_user);
GRANT USAGE ON SCHEMA sales TO readers, PUBLIC;
GRANT SELECT ON sales.customers TO readers;
GRANT SELECT ON sales.orders TO PUBLIC;
GRANT INSERT ON sales.orders TO analysts WITH GRANT OPTION;
GRANT UPDATE (email, phone) ON sales.customers TO bob;
GRANT SELECT ON sales.v_orders TO svc_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA sales GRANT SELECT ON TABLES TO readers;
RESET ROLE;
"""

HR_SQL = """
CREATE TABLE salaries (person text, amount numeric);
"""
