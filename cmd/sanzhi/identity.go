package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/sanzhi/sanzhi/access"
)

// LocalOperatorID is the actor the audit log records for a CLI command
// run without a key: whoever holds the database and its files on this
// machine. It is an operator, so it passes only where the authorisation
// table lets operators act; anything a village or a bank does needs that
// principal's own key.
const LocalOperatorID = "local-operator"

// keyEnv names the environment variable a key may come from, so that it
// stays out of the shell history and the process list.
const keyEnv = "SANZHI_KEY"

// localOperator is the built-in identity of key-less CLI commands.
func localOperator() *access.Principal {
	return &access.Principal{ID: LocalOperatorID, Name: LocalOperatorID, Role: access.Operator}
}

// addKeyFlag adds --key to cmd, defaulting to $SANZHI_KEY.
func addKeyFlag(cmd *cobra.Command, key *string, what string) {
	cmd.Flags().StringVar(key, "key", "", "API key of the principal "+what+" (or $"+keyEnv+")")
}

// identify authenticates the CLI's caller like the server does: the API
// key's SHA-256 looked up in the principal store, a revoked principal
// refused. Without a key (flag or $SANZHI_KEY) the caller is the local
// operator when allowLocal is set, and refused otherwise. There is no way
// to act as a named principal without its key.
func identify(ctx context.Context, store access.Store, key string, allowLocal bool) (*access.Principal, error) {
	if key == "" {
		key = os.Getenv(keyEnv)
	}
	if key == "" {
		if allowLocal {
			return localOperator(), nil
		}
		return nil, errors.New("this command acts for a principal: give its API key with --key or $" + keyEnv)
	}
	p, err := store.PrincipalByKey(ctx, access.HashKey(key))
	if err != nil {
		return nil, fmt.Errorf("--key: no principal holds this key: %w", err)
	}
	if !p.Active() {
		return nil, fmt.Errorf("--key: principal %s is revoked", p.Name)
	}
	return p, nil
}
