//! rmq-tools: the operator tools `mqadmin` and `mqshutdown`.
