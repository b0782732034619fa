// Package accesslog keeps the bridge's access records (アクセス記録): one
// entry per card operation — when, which web origin, which reader, which
// data, the outcome and a keyed hash of the card's serial — so that the
// holder of a card can later be shown who read it and what. Published
// design notes for the card ask for access records the holder can see; the
// My Number system has the same idea on its own side, where マイナポータル
// shows a holder the records of who exchanged their information
// (情報提供等記録).
//
// An entry holds no personal data and no secret: no name, address, birth
// date, My Number, PIN or certificate serial, and the card appears only as
// HMAC-SHA-256 of its serial under a per-installation key kept beside the
// log (mode 0600), which links the entries of one card without saying
// which card it is to anyone without the key.
//
// # The file
//
// The log is a file of JSON lines (access.log), appended with O_APPEND and
// fsync'd before Append returns: an entry the caller was told about
// survives a crash. Concurrent appends share one fsync (group commit).
// Write appends without waiting for the disk, for a record that the next
// Append (or Sync) makes durable before anything depends on it.
// Each line carries
//
//	{"seq":N,"time":…,"id":…,"event":"begin|end|note",…,"prev":"<hash of entry N-1>","hash":"<SHA-256 of this line up to its hash>"}
//
// so an entry changed after it was written no longer matches its own hash,
// and an entry removed or reordered breaks the chain (prev) or the
// sequence. The first entry's prev is 64 zeros. The chain shows accidental
// damage and changes made without rewriting every later entry; anyone who
// can write the file can also rewrite it whole, which is why the entries
// can be mirrored to the system's collector as they are written (Sink:
// syslog or journald), where a municipality with many counters gathers
// them.
//
// # Recovery
//
// Open checks the whole file. A torn last line (a crash mid-write) is cut
// away, and a note entry saying how many bytes were cut is appended, so
// the cut stays visible; nothing before it is touched. Damage further back
// (a changed entry, a broken chain) is reported with the entry number and
// left as it is; new entries still append, chained to the last entry as
// it stands. Verify checks a file without changing it.
package accesslog
