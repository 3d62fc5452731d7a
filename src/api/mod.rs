//! CRD types, validation rules and condition helpers (no I/O).
