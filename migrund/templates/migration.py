"""{description_doc}"""

DESCRIPTION = {description}
DRAFT = True  # no runner applies this file while it says so: delete this line once up() does the change
# DEPENDENCIES = [20250101000000]
# DATA_DESTRUCTIVE = False
# RISKY = False


def up(conn, ctx):
    """Apply the change through ``conn`` (inside the migration's transaction; do not commit)."""
    ctx.log.info("nothing to do yet in %s", ctx.name)


def down(conn, ctx):
    """Undo the change."""
    ctx.log.info("nothing to undo yet in %s", ctx.name)
