package main

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick/doubleticktest"
)

// -live without -waba uses the key's one connected number, and stops with
// a usage error naming them when there are several.
func TestPickWABANumberFromTheKeysChannels(t *testing.T) {
	one := doubleticktest.NewServer(doubleticktest.WithWABANumbers("+919876500000"))
	defer one.Close()
	n, err := pickWABANumber(context.Background(), one.Client())
	require.NoError(t, err)
	assert.Equal(t, "919876500000", n)

	two := doubleticktest.NewServer(doubleticktest.WithWABANumbers("911111111111", "912222222222"))
	defer two.Close()
	_, err = pickWABANumber(context.Background(), two.Client())
	var usage usageError
	require.True(t, errors.As(err, &usage), "a usage error (exit 2), got %v", err)
	assert.EqualError(t, err, "this API key has 2 WhatsApp numbers (911111111111, 912222222222): choose one with -waba")
}
