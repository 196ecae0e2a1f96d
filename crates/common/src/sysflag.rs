//! Bit sets carried in messages and pull requests (`MessageSysFlag`, `PullSysFlag`, `TopicSysFlag`).

/// Message sysFlag bits (stored in every CommitLog record).
pub mod message {
    pub const COMPRESSED: i32 = 0x1;
    pub const MULTI_TAGS: i32 = 0x2;
    pub const TRANSACTION_NOT_TYPE: i32 = 0;
    pub const TRANSACTION_PREPARED_TYPE: i32 = 0x4;
    pub const TRANSACTION_COMMIT_TYPE: i32 = 0x8;
    pub const TRANSACTION_ROLLBACK_TYPE: i32 = 0xC;
    pub const BORNHOST_V6: i32 = 0x10;
    pub const STOREHOST_V6: i32 = 0x20;
    pub const NEED_UNWRAP: i32 = 0x40;
    pub const INNER_BATCH: i32 = 0x80;
    /// The compression type bits (5.x): LZ4 0x100, ZSTD 0x200, ZLIB 0x300 (0 from 4.x producers
    /// means zlib).
    pub const COMPRESSION_TYPE_MASK: i32 = 0x700;
    pub const COMPRESSION_LZ4: i32 = 0x100;
    pub const COMPRESSION_ZSTD: i32 = 0x200;
    pub const COMPRESSION_ZLIB: i32 = 0x300;

    /// The transaction type bits (`flag & 0xC`).
    pub fn transaction_value(flag: i32) -> i32 {
        flag & TRANSACTION_ROLLBACK_TYPE
    }

    /// Replaces the transaction type bits.
    pub fn reset_transaction_value(flag: i32, ty: i32) -> i32 {
        (flag & !TRANSACTION_ROLLBACK_TYPE) | ty
    }
}

/// Pull request sysFlag bits.
pub mod pull {
    pub const COMMIT_OFFSET: i32 = 0x1;
    pub const SUSPEND: i32 = 0x2;
    pub const SUBSCRIPTION: i32 = 0x4;
    pub const CLASS_FILTER: i32 = 0x8;
    pub const LITE_PULL: i32 = 0x10;

    pub fn build(
        commit_offset: bool,
        suspend: bool,
        subscription: bool,
        class_filter: bool,
    ) -> i32 {
        let mut f = 0;
        if commit_offset {
            f |= COMMIT_OFFSET;
        }
        if suspend {
            f |= SUSPEND;
        }
        if subscription {
            f |= SUBSCRIPTION;
        }
        if class_filter {
            f |= CLASS_FILTER;
        }
        f
    }

    pub fn has_commit_offset(f: i32) -> bool {
        f & COMMIT_OFFSET != 0
    }
    pub fn has_suspend(f: i32) -> bool {
        f & SUSPEND != 0
    }
    pub fn has_subscription(f: i32) -> bool {
        f & SUBSCRIPTION != 0
    }
    pub fn clear_commit_offset(f: i32) -> i32 {
        f & !COMMIT_OFFSET
    }
}

/// Topic sysFlag bits.
pub mod topic {
    pub const UNIT: i32 = 0x1;
    pub const UNIT_SUB: i32 = 0x2;
}
