package doubletick

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
)

// RouteGetWalletBalance is the route key of the wallet balance.
const RouteGetWalletBalance = "GET /wallet/balance"

var epGetWalletBalance = newEndpoint(RouteGetWalletBalance)

// WalletService reads the organization's wallet, which paid sends (template
// messages to groups among them) draw on. Use it through [Client.Wallet].
type WalletService struct {
	client *Client
}

// WalletBalance is the organization's wallet balance.
type WalletBalance struct {
	// CurrencyCode is e.g. "INR".
	CurrencyCode string `json:"currencyCode"`
	// Balance is in CurrencyCode. DoubleTick types it as a number and shows
	// it both as one (10.34577189385891) and as a string ("3000"): both
	// are read.
	Balance float64 `json:"balance"`
}

// UnmarshalJSON reads Balance as a number or a string of one.
func (b *WalletBalance) UnmarshalJSON(data []byte) error {
	var raw struct {
		CurrencyCode string          `json:"currencyCode"`
		Balance      json.RawMessage `json:"balance"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	b.CurrencyCode, b.Balance = raw.CurrencyCode, 0
	if len(raw.Balance) == 0 || string(raw.Balance) == "null" {
		return nil
	}
	var text string
	if json.Unmarshal(raw.Balance, &text) == nil {
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return fmt.Errorf("balance %q is not a number", text)
		}
		b.Balance = f
		return nil
	}
	return json.Unmarshal(raw.Balance, &b.Balance)
}

// Get returns the wallet's balance: check it before a run of paid sends.
//
// DoubleTick API docs: https://docs.doubletick.io/reference/get-wallet-balanace-for-org
func (s *WalletService) Get(ctx context.Context) (*WalletBalance, *Response, error) {
	return call[WalletBalance](ctx, s.client, epGetWalletBalance, nil, nil)
}
