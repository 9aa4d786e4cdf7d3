package main

import (
	"fmt"

	"github.com/paperrec/paperrec/models"
)

func parseDateFlag(flag, v string) (models.Date, error) {
	d, err := models.ParseDate(v)
	if err != nil {
		return d, usageError{fmt.Errorf("--%s: %w", flag, err)}
	}
	return d, nil
}
