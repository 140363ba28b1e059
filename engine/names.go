package engine

import "fmt"

// CheckModelName reports whether name can be registered, with the error
// Pool.Register gives, so that a registration that is not made at once
// (a model still downloading) is refused at once all the same.
func CheckModelName(name string) error {
	if !validName.MatchString(name) {
		return fmt.Errorf("invalid model name %q: use letters, digits, '_', '.', '-' (at most 64), starting with a letter or '_'", name)
	}
	return nil
}
