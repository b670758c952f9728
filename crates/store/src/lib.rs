//! lastmile's persistence.
