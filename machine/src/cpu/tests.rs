//! Tests of the hart.
