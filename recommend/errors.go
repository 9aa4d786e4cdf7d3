package recommend

import (
	"errors"
	"fmt"
)

// ErrThemeNotFound is returned when no theme has the requested id.
var ErrThemeNotFound = errors.New("theme not found")

// ErrStale is returned by [Service.Apply] on a version that a newer one
// has replaced: changes go to the newest version.
var ErrStale = errors.New("not the newest version of the engine")

// InvalidArgumentError is a query parameter out of its range: the API maps
// it to 400 and names the parameter.
//
// A plain value.
type InvalidArgumentError struct {
	Param string
	Msg   string
}

func (e *InvalidArgumentError) Error() string {
	return fmt.Sprintf("invalid %s: %s", e.Param, e.Msg)
}
