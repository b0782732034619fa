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
// which card it is to anyone without the key. The same key (through a
// key derived from it) keys the hash chain.
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
//	{"seq":N,"time":…,"id":…,"event":"begin|end|note",…,"prev":"<hash of entry N-1>","hash":"<HMAC-SHA-256 of this line up to its hash>"}
//
// The hash is keyed with a key derived from access.key, so an entry
// changed after it was written no longer matches its own hash, an entry
// removed or reordered breaks the chain (prev) or the sequence, and a log
// rewritten whole by someone without the key fails at every entry (named
// "forged" when the forger used plain SHA-256). The first entry's prev is
// 64 zeros.
//
// # The head
//
// Cutting entries off the end leaves a chain that is intact as far as it
// goes. So the log's head — the number and hash of its last durable entry
// — is kept beside it in access.head, rewritten in place and fsync'd after
// every group commit (never ahead of the entries it names), and sent to
// the sinks as a line of its own ({"head":{"seq":N,"hash":…}}). Verify
// reports entries missing at the end (the log is shorter than its head; an
// emptied log is called so), an entry at the head's number that is not the
// head's, and a missing head. Someone who can write the folder can also
// rewrite the head; the sinks — the system's collector (syslog or
// journald), where a municipality with many counters gathers the entries
// — keep the entries and the head where they cannot.
//
// # One writer
//
// Open takes an exclusive OS lock on the log file (flock on Unix,
// LockFileEx on Windows; elsewhere none is taken, a documented
// limitation), held until Close or the process ends. A second writer —
// another bridge on the same folder — gets ErrLocked, instead of two
// processes interleaving entries into a chain neither can keep. Verify
// takes no lock and can run beside the writer.
//
// # Recovery
//
// Open checks the whole file. A torn last line (a crash mid-write) is cut
// away, and a note entry saying how many bytes were cut is appended, so
// the cut stays visible; nothing before it is touched. A log shorter than
// its head (or whose entry at the head's number is not the head's) gets a
// note entry of its own (action log-gap) before anything else is written,
// and Verify keeps reporting that recorded gap; so too a log found with
// entries but no readable head (action log-head-missing). Damage further back (a
// changed entry, a broken chain) is reported with the entry number and
// left as it is; new entries still append, chained to the last entry as it
// stands. Verify checks a file without changing it.
package accesslog
