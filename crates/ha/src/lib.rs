//! rmq-ha: master/slave CommitLog replication (work in progress).
