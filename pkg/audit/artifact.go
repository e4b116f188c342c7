package audit

// Artifact is a file an action wrote, such as a backup archive: enough to find it again and
// to tell whether a copy of it is the same file.
type Artifact struct {
	// File is the file's absolute path, or "-" when it went to standard output.
	File string `json:"file"`
	// Size is its length in bytes.
	Size int64 `json:"size"`
	// SHA256 is its checksum, in hex.
	SHA256 string `json:"sha256"`
}
