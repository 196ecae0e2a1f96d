//! A disk that stalls or fails on command: a FUSE filesystem that passes every operation through
//! to a backing directory, except that the test can make writes and syncs hang ([`Fault::Stall`])
//! or answer EIO ([`Fault::Eio`]), and clear the fault again. It stands in for device-mapper's
//! `delay` and `error` targets, which this machine's kernel lacks.
//!
//! It runs in the test's own process (worker threads answering the kernel), so the daemon under
//! test must be another process: a thread of the test that touched the mount while a fault holds
//! a worker could wait on itself. Mounting needs root (`mount(2)` of type `fuse`, no
//! `fusermount`); a test that cannot mount gets an error saying so.
//!
//! Reads, lookups and directory operations are never faulted: a failing disk that still reads is
//! the case the store has to handle, and a stalled write must not hide whether reads go on.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs::{File, OpenOptions};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use fuser::{
    Config, Errno, FileAttr, FileHandle, FileType, Filesystem, FopenFlags, Generation, INodeNo,
    LockOwner, OpenFlags, RenameFlags, ReplyAttr, ReplyCreate, ReplyData, ReplyDirectory,
    ReplyEmpty, ReplyEntry, ReplyOpen, ReplyStatfs, ReplyWrite, Request, TimeOrNow, WriteFlags,
};

/// What writes and syncs do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Pass through.
    Healthy,
    /// Hang until the fault changes (a disk that stopped answering), [`STALL_LIMIT`] at most.
    Stall,
    /// Fail with EIO (a disk that reports errors).
    Eio,
}

/// The longest one operation stalls: then it goes through as if the disk had come back. A test
/// that fails (or forgets to clear the fault) must not leave a process in uninterruptible sleep on
/// the mount for good: pages under writeback there hold every thread that touches them, `kill -9`
/// included, and even `ps` (which reads their memory maps).
pub const STALL_LIMIT: Duration = Duration::from_secs(60);

/// The switch the test holds, and how many writes and syncs the faults met.
struct Switch {
    fault: Mutex<Fault>,
    changed: Condvar,
    hits: AtomicU64,
    /// Only files whose path (relative to the mount) contains this meet the fault; all when
    /// empty.
    scope: Mutex<String>,
}

impl Switch {
    /// Waits out a stall ([`STALL_LIMIT`] at most); `Err(EIO)` under [`Fault::Eio`]; always
    /// `Ok` for a file outside the scope (`rel`: its path under the mount, if known).
    fn pass(&self, rel: Option<&Path>) -> Result<(), Errno> {
        {
            let scope = self.scope.lock().unwrap_or_else(|p| p.into_inner());
            if !scope.is_empty() && !rel.is_some_and(|r| r.to_string_lossy().contains(&*scope)) {
                return Ok(());
            }
        }
        let mut f = self.fault.lock().unwrap_or_else(|p| p.into_inner());
        let mut counted = false;
        let until = std::time::Instant::now() + STALL_LIMIT;
        loop {
            match *f {
                Fault::Healthy => return Ok(()),
                Fault::Eio => {
                    self.hits.fetch_add(1, Ordering::Relaxed);
                    self.changed.notify_all();
                    return Err(Errno::EIO);
                }
                Fault::Stall => {
                    if !counted {
                        self.hits.fetch_add(1, Ordering::Relaxed);
                        self.changed.notify_all();
                        counted = true;
                    }
                    let left = until.saturating_duration_since(std::time::Instant::now());
                    if left.is_zero() {
                        return Ok(());
                    }
                    f = self
                        .changed
                        .wait_timeout(f, left)
                        .unwrap_or_else(|p| p.into_inner())
                        .0;
                }
            }
        }
    }
}

/// A mounted fault filesystem; unmounted (faults cleared first) when dropped.
pub struct FaultFs {
    switch: Arc<Switch>,
    session: Option<fuser::BackgroundSession>,
    mountpoint: PathBuf,
}

impl FaultFs {
    /// Mounts a pass-through of `backing` at `mountpoint` (both created if missing).
    pub fn mount(backing: &Path, mountpoint: &Path) -> Result<FaultFs> {
        std::fs::create_dir_all(backing)?;
        std::fs::create_dir_all(mountpoint)?;
        let switch = Arc::new(Switch {
            fault: Mutex::new(Fault::Healthy),
            changed: Condvar::new(),
            hits: AtomicU64::new(0),
            scope: Mutex::new(String::new()),
        });
        let fs = PassThrough {
            backing: backing.canonicalize()?,
            switch: Arc::clone(&switch),
            nodes: Mutex::new(Nodes::default()),
            files: Mutex::new(HashMap::new()),
            next_fh: AtomicU64::new(1),
        };
        let mut config = Config::default();
        config.mount_options = vec![fuser::MountOption::FSName("rmq-faultfs".into())];
        // A stalled write or sync holds a worker, and the kernel keeps up to 12 writebacks in
        // flight (FUSE's max_background) besides the daemon's own fsyncs: with room for all of
        // them, lookups, reads and the unmount still find a free worker.
        config.n_threads = Some(32);
        let session = fuser::spawn_mount(fs, mountpoint, &config).with_context(|| {
            format!(
                "mounting the fault filesystem at {} (needs root and /dev/fuse)",
                mountpoint.display()
            )
        })?;
        Ok(FaultFs {
            switch,
            session: Some(session),
            mountpoint: mountpoint.to_owned(),
        })
    }

    /// Switches the fault; stalled operations continue (or fail) at once.
    pub fn set(&self, fault: Fault) {
        *self.switch.fault.lock().unwrap_or_else(|p| p.into_inner()) = fault;
        self.switch.changed.notify_all();
    }

    /// Limits faults to files whose path under the mount contains `part` (`""`: every file),
    /// for a test about one kind of file: a stalled CommitLog without the consume queues and
    /// indexes, whose writers a stall would hold too (stable pages), stalling at random times.
    pub fn scope(&self, part: &str) {
        *self.switch.scope.lock().unwrap_or_else(|p| p.into_inner()) = part.to_owned();
    }

    /// How many writes and syncs met a fault so far (proof that one was hit).
    pub fn hits(&self) -> u64 {
        self.switch.hits.load(Ordering::Relaxed)
    }

    /// Blocks until more than `seen` writes or syncs met a fault; `false` after `limit`.
    pub fn wait_for_hits_beyond(&self, seen: u64, limit: Duration) -> bool {
        let f = self.switch.fault.lock().unwrap_or_else(|p| p.into_inner());
        let (_f, timeout) = self
            .switch
            .changed
            .wait_timeout_while(f, limit, |_| self.hits() <= seen)
            .unwrap_or_else(|p| p.into_inner());
        !timeout.timed_out()
    }

    /// Clears the fault and unmounts; fails while a process still has files open there.
    pub fn unmount(mut self) -> Result<()> {
        self.set(Fault::Healthy);
        match self.session.take() {
            Some(s) => s
                .umount_and_join()
                .with_context(|| format!("unmounting {}", self.mountpoint.display())),
            None => Ok(()),
        }
    }
}

impl Drop for FaultFs {
    fn drop(&mut self) {
        self.set(Fault::Healthy);
        if self.session.take().is_some() {
            // The session's own drop unmounts when it can; a lazy unmount makes sure a test that
            // failed with a daemon still inside does not leave the mount behind.
            let _ = std::process::Command::new("umount")
                .arg("-l")
                .arg(&self.mountpoint)
                .status();
        }
    }
}

/// Inode numbers handed to the kernel and the backing paths (relative) they stand for.
#[derive(Default)]
struct Nodes {
    path_of: HashMap<u64, PathBuf>,
    ino_of: HashMap<PathBuf, u64>,
    next: u64,
}

impl Nodes {
    fn ino(&mut self, rel: &Path) -> u64 {
        if rel.as_os_str().is_empty() {
            return INodeNo::ROOT.0;
        }
        if let Some(i) = self.ino_of.get(rel) {
            return *i;
        }
        self.next = self.next.max(INodeNo::ROOT.0) + 1;
        self.path_of.insert(self.next, rel.to_owned());
        self.ino_of.insert(rel.to_owned(), self.next);
        self.next
    }

    fn path(&self, ino: INodeNo) -> Option<PathBuf> {
        if ino == INodeNo::ROOT {
            return Some(PathBuf::new());
        }
        self.path_of.get(&ino.0).cloned()
    }

    fn forget_path(&mut self, rel: &Path) {
        if let Some(i) = self.ino_of.remove(rel) {
            self.path_of.remove(&i);
        }
    }

    /// `from` (and everything under it) is now `to`.
    fn renamed(&mut self, from: &Path, to: &Path) {
        self.forget_path(to);
        let moved: Vec<(PathBuf, u64)> = self
            .ino_of
            .iter()
            .filter(|(p, _)| p.starts_with(from))
            .map(|(p, i)| (p.clone(), *i))
            .collect();
        for (p, i) in moved {
            let rest = p.strip_prefix(from).unwrap_or(Path::new(""));
            let np = if rest.as_os_str().is_empty() {
                to.to_owned()
            } else {
                to.join(rest)
            };
            self.ino_of.remove(&p);
            self.ino_of.insert(np.clone(), i);
            self.path_of.insert(i, np);
        }
    }
}

struct PassThrough {
    backing: PathBuf,
    switch: Arc<Switch>,
    nodes: Mutex<Nodes>,
    files: Mutex<HashMap<u64, Arc<File>>>,
    next_fh: AtomicU64,
}

/// Attributes are not cached by the kernel: every size and time comes from the backing file.
const TTL: Duration = Duration::ZERO;

/// Answers an operation with no data.
fn done(reply: ReplyEmpty, r: Result<(), Errno>) {
    match r {
        Ok(()) => reply.ok(),
        Err(e) => reply.error(e),
    }
}

fn errno(e: &std::io::Error) -> Errno {
    Errno::from_i32(e.raw_os_error().unwrap_or(libc::EIO))
}

fn time(secs: i64, nsecs: i64) -> SystemTime {
    let d = Duration::new(secs.unsigned_abs(), nsecs.clamp(0, 999_999_999) as u32);
    if secs >= 0 {
        UNIX_EPOCH + d
    } else {
        UNIX_EPOCH - d
    }
}

fn attr(ino: u64, m: &std::fs::Metadata) -> FileAttr {
    let kind = if m.is_dir() {
        FileType::Directory
    } else if m.file_type().is_symlink() {
        FileType::Symlink
    } else {
        FileType::RegularFile
    };
    FileAttr {
        ino: INodeNo(ino),
        size: m.size(),
        blocks: m.blocks(),
        atime: time(m.atime(), m.atime_nsec()),
        mtime: time(m.mtime(), m.mtime_nsec()),
        ctime: time(m.ctime(), m.ctime_nsec()),
        crtime: time(m.ctime(), m.ctime_nsec()),
        kind,
        perm: (m.mode() & 0o7777) as u16,
        nlink: m.nlink() as u32,
        uid: m.uid(),
        gid: m.gid(),
        rdev: m.rdev() as u32,
        blksize: m.blksize() as u32,
        flags: 0,
    }
}

impl PassThrough {
    fn nodes(&self) -> std::sync::MutexGuard<'_, Nodes> {
        self.nodes.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn rel(&self, ino: INodeNo) -> Result<PathBuf, Errno> {
        self.nodes().path(ino).ok_or(Errno::ENOENT)
    }

    fn child(&self, parent: INodeNo, name: &OsStr) -> Result<PathBuf, Errno> {
        Ok(self.rel(parent)?.join(name))
    }

    fn full(&self, rel: &Path) -> PathBuf {
        self.backing.join(rel)
    }

    /// Stat of `rel`, registered under an inode number.
    fn entry(&self, rel: &Path) -> Result<FileAttr, Errno> {
        let m = std::fs::symlink_metadata(self.full(rel)).map_err(|e| errno(&e))?;
        let ino = self.nodes().ino(rel);
        Ok(attr(ino, &m))
    }

    fn file(&self, fh: FileHandle) -> Result<Arc<File>, Errno> {
        self.files
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&fh.0)
            .cloned()
            .ok_or(Errno::EBADF)
    }

    fn keep(&self, f: File) -> FileHandle {
        let fh = self.next_fh.fetch_add(1, Ordering::Relaxed);
        self.files
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(fh, Arc::new(f));
        FileHandle(fh)
    }

    /// Removes `name` in `parent` with `how` (a file or an empty directory).
    fn remove(
        &self,
        parent: INodeNo,
        name: &OsStr,
        how: fn(&Path) -> std::io::Result<()>,
    ) -> Result<(), Errno> {
        let rel = self.child(parent, name)?;
        how(&self.full(&rel)).map_err(|e| errno(&e))?;
        self.nodes().forget_path(&rel);
        Ok(())
    }

    fn open_flags(flags: i32) -> OpenOptions {
        let mut o = OpenOptions::new();
        match flags & libc::O_ACCMODE {
            libc::O_WRONLY => o.write(true),
            libc::O_RDWR => o.read(true).write(true),
            _ => o.read(true),
        };
        o.custom_flags(flags & libc::O_APPEND);
        o
    }
}

impl Filesystem for PassThrough {
    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        match self.child(parent, name).and_then(|p| self.entry(&p)) {
            Ok(a) => reply.entry(&TTL, &a, Generation(0)),
            Err(e) => reply.error(e),
        }
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, _fh: Option<FileHandle>, reply: ReplyAttr) {
        match self.rel(ino).and_then(|p| self.entry(&p)) {
            Ok(a) => reply.attr(&TTL, &a),
            Err(e) => reply.error(e),
        }
    }

    fn setattr(
        &self,
        _req: &Request,
        ino: INodeNo,
        mode: Option<u32>,
        _uid: Option<u32>,
        _gid: Option<u32>,
        size: Option<u64>,
        _atime: Option<TimeOrNow>,
        _mtime: Option<TimeOrNow>,
        _ctime: Option<SystemTime>,
        _fh: Option<FileHandle>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<fuser::BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        let run = || -> Result<FileAttr, Errno> {
            let rel = self.rel(ino)?;
            let full = self.full(&rel);
            if let Some(size) = size {
                self.switch.pass(Some(&rel))?;
                let f = OpenOptions::new()
                    .write(true)
                    .open(&full)
                    .map_err(|e| errno(&e))?;
                f.set_len(size).map_err(|e| errno(&e))?;
            }
            if let Some(mode) = mode {
                std::fs::set_permissions(&full, std::fs::Permissions::from_mode(mode))
                    .map_err(|e| errno(&e))?;
            }
            self.entry(&rel)
        };
        match run() {
            Ok(a) => reply.attr(&TTL, &a),
            Err(e) => reply.error(e),
        }
    }

    fn mkdir(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        _umask: u32,
        reply: ReplyEntry,
    ) {
        let run = || -> Result<FileAttr, Errno> {
            let rel = self.child(parent, name)?;
            std::fs::create_dir(self.full(&rel)).map_err(|e| errno(&e))?;
            let _ = std::fs::set_permissions(
                self.full(&rel),
                std::fs::Permissions::from_mode(mode & 0o7777),
            );
            self.entry(&rel)
        };
        match run() {
            Ok(a) => reply.entry(&TTL, &a, Generation(0)),
            Err(e) => reply.error(e),
        }
    }

    fn unlink(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        done(
            reply,
            self.remove(parent, name, |p| std::fs::remove_file(p)),
        );
    }

    fn rmdir(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        done(reply, self.remove(parent, name, |p| std::fs::remove_dir(p)));
    }

    fn rename(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        newparent: INodeNo,
        newname: &OsStr,
        _flags: RenameFlags,
        reply: ReplyEmpty,
    ) {
        let run = || -> Result<(), Errno> {
            let from = self.child(parent, name)?;
            let to = self.child(newparent, newname)?;
            std::fs::rename(self.full(&from), self.full(&to)).map_err(|e| errno(&e))?;
            self.nodes().renamed(&from, &to);
            Ok(())
        };
        done(reply, run());
    }

    fn open(&self, _req: &Request, ino: INodeNo, flags: OpenFlags, reply: ReplyOpen) {
        let run = || -> Result<FileHandle, Errno> {
            let rel = self.rel(ino)?;
            let f = Self::open_flags(flags.0)
                .open(self.full(&rel))
                .map_err(|e| errno(&e))?;
            Ok(self.keep(f))
        };
        match run() {
            Ok(fh) => reply.opened(fh, FopenFlags::empty()),
            Err(e) => reply.error(e),
        }
    }

    fn create(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        _umask: u32,
        flags: i32,
        reply: ReplyCreate,
    ) {
        let run = || -> Result<(FileAttr, FileHandle), Errno> {
            let rel = self.child(parent, name)?;
            let mut o = Self::open_flags(flags);
            o.write(true)
                .create(true)
                .truncate(flags & libc::O_TRUNC != 0)
                .mode(mode & 0o7777);
            if flags & libc::O_EXCL != 0 {
                o.create_new(true);
            }
            let f = o.open(self.full(&rel)).map_err(|e| errno(&e))?;
            let a = self.entry(&rel)?;
            Ok((a, self.keep(f)))
        };
        match run() {
            Ok((a, fh)) => reply.created(&TTL, &a, Generation(0), fh, FopenFlags::empty()),
            Err(e) => reply.error(e),
        }
    }

    fn read(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        let run = || -> Result<Vec<u8>, Errno> {
            let f = self.file(fh)?;
            let mut buf = vec![0u8; size as usize];
            let mut n = 0;
            while n < buf.len() {
                match f.read_at(&mut buf[n..], offset + n as u64) {
                    Ok(0) => break,
                    Ok(k) => n += k,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(errno(&e)),
                }
            }
            buf.truncate(n);
            Ok(buf)
        };
        match run() {
            Ok(b) => reply.data(&b),
            Err(e) => reply.error(e),
        }
    }

    fn write(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        data: &[u8],
        _write_flags: WriteFlags,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyWrite,
    ) {
        let run = || -> Result<u32, Errno> {
            self.switch.pass(self.rel(ino).ok().as_deref())?;
            let f = self.file(fh)?;
            f.write_all_at(data, offset).map_err(|e| errno(&e))?;
            Ok(data.len() as u32)
        };
        match run() {
            Ok(n) => reply.written(n),
            Err(e) => reply.error(e),
        }
    }

    fn flush(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _lock_owner: LockOwner,
        reply: ReplyEmpty,
    ) {
        reply.ok();
    }

    fn release(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        _flush: bool,
        reply: ReplyEmpty,
    ) {
        self.files
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&fh.0);
        reply.ok();
    }

    fn fsync(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        datasync: bool,
        reply: ReplyEmpty,
    ) {
        let run = || -> Result<(), Errno> {
            self.switch.pass(self.rel(ino).ok().as_deref())?;
            let f = self.file(fh)?;
            if datasync {
                f.sync_data()
            } else {
                f.sync_all()
            }
            .map_err(|e| errno(&e))
        };
        done(reply, run());
    }

    fn fsyncdir(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        _datasync: bool,
        reply: ReplyEmpty,
    ) {
        done(reply, self.switch.pass(self.rel(ino).ok().as_deref()));
    }

    fn readdir(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectory,
    ) {
        let run = || -> Result<Vec<(u64, FileType, std::ffi::OsString)>, Errno> {
            let rel = self.rel(ino)?;
            let mut out = vec![
                (ino.0, FileType::Directory, ".".into()),
                (ino.0, FileType::Directory, "..".into()),
            ];
            for e in std::fs::read_dir(self.full(&rel)).map_err(|e| errno(&e))? {
                let e = e.map_err(|e| errno(&e))?;
                let kind = match e.file_type() {
                    Ok(t) if t.is_dir() => FileType::Directory,
                    Ok(t) if t.is_symlink() => FileType::Symlink,
                    _ => FileType::RegularFile,
                };
                let name = e.file_name();
                let i = self.nodes().ino(&rel.join(&name));
                out.push((i, kind, name));
            }
            Ok(out)
        };
        match run() {
            Ok(entries) => {
                for (i, (ino, kind, name)) in entries.into_iter().enumerate().skip(offset as usize)
                {
                    if reply.add(INodeNo(ino), (i + 1) as u64, kind, &name) {
                        break;
                    }
                }
                reply.ok();
            }
            Err(e) => reply.error(e),
        }
    }

    fn statfs(&self, _req: &Request, _ino: INodeNo, reply: ReplyStatfs) {
        let path = match std::ffi::CString::new(self.backing.as_os_str().as_bytes()) {
            Ok(p) => p,
            Err(_) => return reply.error(Errno::EINVAL),
        };
        // SAFETY: `path` is a valid NUL-terminated string and `st` a zeroed statvfs the call
        // fills; both outlive the call.
        let (rc, st) = unsafe {
            let mut st: libc::statvfs = std::mem::zeroed();
            (libc::statvfs(path.as_ptr(), &mut st), st)
        };
        if rc != 0 {
            return reply.error(errno(&std::io::Error::last_os_error()));
        }
        reply.statfs(
            st.f_blocks,
            st.f_bfree,
            st.f_bavail,
            st.f_files,
            st.f_ffree,
            st.f_bsize as u32,
            st.f_namemax as u32,
            st.f_frsize as u32,
        );
    }

    fn fallocate(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        length: u64,
        mode: i32,
        reply: ReplyEmpty,
    ) {
        let run = || -> Result<(), Errno> {
            self.switch.pass(self.rel(ino).ok().as_deref())?;
            let f = self.file(fh)?;
            // SAFETY: a plain syscall on an open descriptor `f` keeps alive for the call.
            let rc = unsafe {
                libc::fallocate(
                    f.as_raw_fd(),
                    mode,
                    offset as libc::off_t,
                    length as libc::off_t,
                )
            };
            if rc == 0 {
                Ok(())
            } else {
                Err(errno(&std::io::Error::last_os_error()))
            }
        };
        done(reply, run());
    }
}
