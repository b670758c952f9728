//! lastmile's rules, pure: no IO, no clock reads, no database.
