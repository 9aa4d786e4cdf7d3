// Package data bundles the institute's listing, so that a fresh clone serves
// a real corpus with no other input, and the graded relevance judgments used
// by "paperrec eval" and the relevance tests.
package data

import _ "embed"

// ListingName is the bundled listing's file name, used in messages.
const ListingName = "iaifi-listing.txt"

// Listing is the institute's listing of 574 papers in the listing format
// (see models.ParseListing).
//
//go:embed iaifi-listing.txt
var Listing []byte

// DevJudgmentsName is the bundled judgments' file name.
const DevJudgmentsName = "relevance-dev.json"

// DevJudgments holds graded judgments (0 not related, 1 partly, 2 highly) of
// candidate papers for 20 query papers of Listing, keyed by title.
//
//go:embed relevance-dev.json
var DevJudgments []byte

// Dev2JudgmentsName is the second judgments file's name.
const Dev2JudgmentsName = "relevance-dev2.json"

// Dev2Judgments holds graded judgments of a second, larger sample: 40 query
// papers of Listing (10 per area, none of them a query of DevJudgments),
// pooled from this engine and three independent systems and judged blind
// (docs/relevance.md, "The second yardstick").
//
//go:embed relevance-dev2.json
var Dev2Judgments []byte
