"""The pure core: rules about time, availability and status, with no Flask or SQLAlchemy imports."""
