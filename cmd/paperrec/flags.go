package main

import (
	"fmt"
	"strings"

	"github.com/paperrec/paperrec/models"
)

// categoryOf matches an area name case-insensitively against the listing's
// areas; other names pass through for corpora with their own.
func categoryOf(name string) models.Category {
	name = strings.TrimSpace(name)
	for _, c := range models.ListingCategories {
		if strings.EqualFold(string(c), name) {
			return c
		}
	}
	return models.Category(name)
}

func parseDateFlag(flag, v string) (models.Date, error) {
	d, err := models.ParseDate(v)
	if err != nil {
		return d, usageError{fmt.Errorf("--%s: %w", flag, err)}
	}
	return d, nil
}
