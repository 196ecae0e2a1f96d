//! rmq-namesrv: the name server (work in progress).
