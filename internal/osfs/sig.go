package osfs

// Sig is what the file system says of one file that changes whenever the
// file does: a new content, type, permission, owner or link target changes
// its ctime (which no user can set back) and usually its size and mtime; a
// file put in its place by a rename has another inode. Two equal Sigs of
// one path are the same file, unchanged, except for a change made within
// the file system's timestamp granularity of the first: callers that
// trust a Sig must only trust one whose times are older than that.
type Sig struct {
	Dev, Ino     uint64
	Mode         uint32
	Size         int64
	Mtime, Ctime int64 // nanoseconds since the epoch
}
