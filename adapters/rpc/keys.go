package rpc

// NewKeyAndHash returns a fresh API key and the hash a store keeps of it:
// the principals.NewKey the principal service takes.
func NewKeyAndHash() (string, []byte, error) {
	k, err := NewKey()
	if err != nil {
		return "", nil, err
	}
	return k, HashKey(k), nil
}
