"""All access to the system tables. The SQL that decides correctness and speed is here.

Hot paths are hand-written SQL (one statement per checkpoint); everything else uses the ORM.
"""
