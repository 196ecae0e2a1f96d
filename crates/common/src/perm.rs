//! Topic and broker permission bits (`PermName` in Apache RocketMQ).

pub const PRIORITY: i32 = 1 << 3;
pub const READ: i32 = 1 << 2;
pub const WRITE: i32 = 1 << 1;
pub const INHERIT: i32 = 1;

pub fn is_readable(perm: i32) -> bool {
    perm & READ == READ
}

pub fn is_writeable(perm: i32) -> bool {
    perm & WRITE == WRITE
}

pub fn is_inherited(perm: i32) -> bool {
    perm & INHERIT == INHERIT
}

/// Human form used by admin tools, e.g. `RW-`.
pub fn to_display(perm: i32) -> String {
    let mut s = String::with_capacity(3);
    s.push(if is_readable(perm) { 'R' } else { '-' });
    s.push(if is_writeable(perm) { 'W' } else { '-' });
    s.push(if is_inherited(perm) { 'X' } else { '-' });
    s
}
