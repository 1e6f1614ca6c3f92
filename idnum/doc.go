// Package idnum validates and masks the identifiers the credit service keys
// its records on: the 18-character 居民身份证号码 of a person (GB 11643-1999)
// and the 12-digit 统计用区划代码 of a village.
//
// The package is pure: no I/O, no global state, and the only clock read is
// in ParsePersonID, which has a deterministic twin, ParsePersonIDAt, for
// tests and replays.
//
// Rejections are *Error values whose Reason is one of the exported Reason
// constants, so that API layers can map them to field violations, and whose
// message names what is wrong ("check digit is 7, got X") without ever
// repeating a whole ID number.
package idnum
