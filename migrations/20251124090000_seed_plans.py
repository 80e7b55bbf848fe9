"""Seed the subscription plans (module-form Python migration)."""

DESCRIPTION = "Create and seed the plans table"
DEPENDENCIES = [20251119013300]

PLANS = [("free", 0), ("team", 1200), ("business", 4900)]


def up(conn, ctx):
    """Create the plans table and insert the three plans."""
    p = "?" if ctx.dialect == "sqlite" else "%s"
    cur = conn.cursor()
    cur.execute("CREATE TABLE plans (code VARCHAR(32) PRIMARY KEY, monthly_cents INTEGER NOT NULL)")
    for code, cents in PLANS:
        cur.execute(f"INSERT INTO plans (code, monthly_cents) VALUES ({p}, {p})", (code, cents))


def down(conn, ctx):
    """Drop the plans table."""
    conn.cursor().execute("DROP TABLE plans")
