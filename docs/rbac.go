// Package docs holds the documents storectl's code reads: docs/rbac.yaml, so that the
// permission checks of `storectl doctor` test exactly the roles an administrator applies.
package docs

import _ "embed"

// RBAC is docs/rbac.yaml: the least-privilege roles for the people and CI jobs that run
// storectl.
//
//go:embed rbac.yaml
var RBAC []byte
