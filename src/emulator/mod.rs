//! A local, stateful stand-in for Azure Resource Manager.
