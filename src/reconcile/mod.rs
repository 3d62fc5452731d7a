//! Reconcile cores: declared object + ARM client -> actions -> status. No kube I/O.
