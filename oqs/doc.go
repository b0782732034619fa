// Package oqs is the clinic side of オンライン資格確認 (OQS, Japan's online
// eligibility confirmation) through the 資格確認端末, the clinic's eligibility
// terminal, which exchanges XML files with clinic software in three shared
// folders: the clinic writes requests into req, the terminal answers in res
// under the same name with req replaced by res, and after every card
// presented at the face-recognition reader it drops an unsolicited result
// into face.
//
// The interface's specification is not public. What this package does is
// built from public implementations and notes; oqs/README.md lists the
// sources and marks every fact [multi] (independent sources agree),
// [single: X] (one source), [conflict] or [derived]. In short: the folder
// layout, element names, the space-padded insurer numbers, the two
// encodings with CharacterCodeIdentifier, out-of-schema-order files and the
// rule for a successful result are well established; the file-name
// suffixes, the face-file name, the nesting of the specific-disease list,
// what chooses the result encoding, and all error codes are not. Where
// sources disagree or are silent, reading accepts every variant and writing
// emits the most common one.
//
// The parts:
//
//   - the model (ConfirmRequest, ConfirmResult, Qualification and its
//     groups, RegistrationRequest/RegistrationResult): codes stay strings,
//     unknown elements are kept, any order is accepted;
//   - encodings: UTF-8 and Shift_JIS by declaration, cross-checked against
//     CharacterCodeIdentifier; values Shift_JIS cannot hold are refused;
//   - Client: Confirm writes the request (persisted as a Job first, then a
//     temp file, fsync, rename), polls for the exact result name, parses
//     only after two identical reads and checks it belongs to the request;
//     a timeout leaves the job pending and nothing is ever resent
//     automatically;
//   - Interpret and Summarize: a result is a success only when its header,
//     status, validity and count say so;
//   - Watcher: face results, once each, today's only, tolerant of slow
//     writers and of other programs moving files away;
//   - Match: a face result against the card read at the counter, after kana
//     normalization, never choosing among several candidates.
//
// Package oqs/oqssim is a simulated terminal to test all of this against.
package oqs
