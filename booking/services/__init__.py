"""Use cases: one function per action, each one transaction that checks permissions and rules."""
