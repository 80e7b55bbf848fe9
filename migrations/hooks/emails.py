"""Hooks for 20251122080000_normalise_emails: data changes that SQL alone does awkwardly."""


def _placeholder(ctx):
    return "?" if ctx.dialect == "sqlite" else "%s"


def normalise(conn, ctx):
    """Lower-case every email and count users per email domain."""
    p = _placeholder(ctx)
    cur = conn.cursor()
    cur.execute("SELECT id, email FROM users")
    counts = {}
    for user_id, email in cur.fetchall():
        clean = email.strip().lower()
        if clean != email:
            cur.execute(f"UPDATE users SET email = {p} WHERE id = {p}", (clean, user_id))
        domain = clean.rpartition("@")[2]
        counts[domain] = counts.get(domain, 0) + 1
    for domain, users in sorted(counts.items()):
        cur.execute(f"INSERT INTO email_domains (domain, users) VALUES ({p}, {p})", (domain, users))
    ctx.log.info("normalised %d domains", len(counts))
