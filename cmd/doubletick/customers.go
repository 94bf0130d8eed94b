package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/doubletick-go/doubletick"
	"github.com/spf13/cobra"
)

func (a *app) customersCommand() *cobra.Command {
	return group("customers", "Read and write a participant's customer record: tags, fields, erasure",
		a.customersGetCommand(), a.customersTagCommand(), a.customersUntagCommand(), a.customersDeleteCommand())
}

// The fields of the customer requests, and the flags that set them.
var customerFields = []string{"phoneNumber=PHONE", "phone=PHONE", "wabaNumber=--waba", "customerId=--id", "tags=--tag",
	"customFields=--field", "phoneNumbers=PHONE"}

func (a *app) customersGetCommand() *cobra.Command {
	var req doubletick.GetCustomerRequest
	cmd := &cobra.Command{
		Use:   "get (PHONE | --id CUSTOMER_ID) [--waba NUMBER]",
		Short: "Show a customer: name, tags (with --waba), custom fields, owner",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				req.PhoneNumber = args[0]
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			cu, _, err := c.Customers.Get(cmd.Context(), &req)
			if err != nil {
				return err
			}
			return a.print(cu, func(w io.Writer) {
				fmt.Fprintf(w, "name\t%s\nphone\t%s\nid\t%s\nassigned to\t%s\n", printable(cu.Name), printable(cu.Phone),
					printable(cu.ID), printable(cu.AssignedToUser))
				if req.WABANumber != "" {
					fmt.Fprintf(w, "tags\t%s\n", printable(strings.Join(cu.Tags, ",")))
				}
				for _, f := range cu.CustomFields {
					fmt.Fprintf(w, "%s\t%s\n", printable(f.Name), printable(f.Value))
				}
			})
		},
	}
	cmd.Flags().StringVar(&req.CustomerID, "id", "", "the customer's ID, instead of the phone")
	cmd.Flags().StringVar(&req.WABANumber, "waba", "", "show the customer's tags on this number")
	return fieldFlags(readsEnv(cmd, apiEnv...), customerFields...)
}

// printTagChanges writes what a tag call changed and what it could not.
func printTagChanges(w io.Writer, r *doubletick.CustomerTagsResult, verb string) {
	changed := func(tags, fields []string) string {
		return strings.Join(append(append([]string{}, tags...), fields...), ",")
	}
	if verb == "added" {
		fmt.Fprintf(w, "added\t%s\n", printable(changed(r.Tags.Added, r.CustomFields.Added)))
	} else {
		fmt.Fprintf(w, "removed\t%s\n", printable(changed(r.Tags.Removed, r.CustomFields.Removed)))
	}
	for _, e := range r.Tags.Errored {
		fmt.Fprintf(w, "not %s\t%s: %s\n", verb, printable(e.Tag), printable(e.Error))
	}
	for _, e := range r.CustomFields.Errored {
		fmt.Fprintf(w, "not %s\t%s: %s\n", verb, printable(e.CustomField), printable(e.Error))
	}
	if r.CustomerID != "" {
		fmt.Fprintf(w, "customer\t%s\n", printable(r.CustomerID))
	}
}

func (a *app) customersTagCommand() *cobra.Command {
	var req doubletick.AssignCustomerTagsRequest
	var fields []string
	cmd := &cobra.Command{
		Use:     "tag PHONE [--tag T]... [--field NAME=VALUE]... [--name N] [--waba NUMBER]",
		Short:   "Set tags and custom fields on a customer (created when missing)",
		Example: `  doubletick customers tag 919876543210 --tag vip --field plan=gold --waba 911111111111`,
		Args:    args(1, "the customer's phone"),
		RunE: func(cmd *cobra.Command, args []string) error {
			req.Phone = args[0]
			for _, f := range fields {
				name, value, ok := strings.Cut(f, "=")
				if !ok {
					return usagef("--field %q: want NAME=VALUE", f)
				}
				req.CustomFields = append(req.CustomFields, doubletick.CustomerField{Name: name, Value: value})
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			r, _, err := c.Customers.AssignTags(cmd.Context(), &req)
			if err != nil {
				return err
			}
			return a.print(r, func(w io.Writer) { printTagChanges(w, r, "added") })
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&req.Tags, "tag", nil, "a tag to add (repeat)")
	f.StringArrayVar(&fields, "field", nil, "a custom field, NAME=VALUE (repeat)")
	f.StringVar(&req.Name, "name", "", "the customer's name")
	f.StringVar(&req.WABANumber, "waba", "", "the number whose tags change")
	return fieldFlags(readsEnv(cmd, apiEnv...), customerFields...)
}

func (a *app) customersUntagCommand() *cobra.Command {
	var req doubletick.RemoveCustomerTagsRequest
	cmd := &cobra.Command{
		Use:   "untag PHONE [--tag T]... [--field NAME]... [--waba NUMBER]",
		Short: "Remove tags from a customer and clear custom fields",
		Args:  args(1, "the customer's phone"),
		RunE: func(cmd *cobra.Command, args []string) error {
			req.Phone = args[0]
			c, err := a.client()
			if err != nil {
				return err
			}
			r, _, err := c.Customers.RemoveTags(cmd.Context(), &req)
			if err != nil {
				return err
			}
			return a.print(r, func(w io.Writer) { printTagChanges(w, r, "removed") })
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&req.Tags, "tag", nil, "a tag to remove (repeat)")
	f.StringArrayVar(&req.CustomFields, "field", nil, "a custom field to clear, by name (repeat)")
	f.StringVar(&req.WABANumber, "waba", "", "the number whose tags change")
	return fieldFlags(readsEnv(cmd, apiEnv...), customerFields...)
}

func (a *app) customersDeleteCommand() *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "delete PHONE... --yes",
		Short: "Queue the deletion of up to 10 customers (an erasure request); it cannot be undone",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 || len(args) > doubletick.MaxDeleteCustomers {
				return usagef("%s takes 1 to %d phones, got %d", cmd.CommandPath(), doubletick.MaxDeleteCustomers, len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if !yes {
				return usagef("deleting %d customer(s) cannot be undone: add --yes", len(args))
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			r, _, err := c.Customers.Delete(cmd.Context(), &doubletick.DeleteCustomersRequest{PhoneNumbers: args})
			if err != nil {
				return err
			}
			return a.print(r, func(w io.Writer) {
				fmt.Fprintln(w, printable(r.Message))
				if len(r.NotFoundPhoneNumbers) > 0 {
					fmt.Fprintf(w, "no customer has\t%s\n", printable(strings.Join(r.NotFoundPhoneNumbers, ",")))
				}
			})
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "confirm the deletion")
	return fieldFlags(readsEnv(cmd, apiEnv...), customerFields...)
}
