package doubletick_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick"
)

// Every response sample DoubleTick's pages print for the channel, template,
// customer, team, wallet, note and chat-assignment operations (the
// reference page's, assembled from its schema's examples where it prints
// none, and its guide's), decoded by the SDK: where a page and its guide
// disagree (a number or a string, a key with a trailing space, "added" or
// "removed", a body or none), both are read.
func TestTheDocumentedSamplesDecode(t *testing.T) {
	ctx := context.Background()
	type sample struct {
		name, body string
		status     int
		check      func(t *testing.T, c *doubletick.Client)
	}
	samples := []sample{
		{"list-channel-details", `{"count": 3, "channels": [{"channelId": "intg_0000000001", "wabaNumber": "919999999999", "displayName": "Acme Support", "status": "CONNECTED", "useMetaName": false, "profile": {"websites": ["https://acme.com"], "email": "support@acme.com", "vertical": "Medical and Health", "address": "1 Market St, San Francisco", "description": "24x7 customer support", "about": "Welcome to Acme", "logo": "https://media.doubletick.io/acme/logo.png"}}, {"channelId": "intg_0000000002", "wabaNumber": "919777777777", "displayName": "Acme Notifications", "status": "CONNECTED", "useMetaName": false, "profile": {"websites": ["https://acme.com/help"], "email": null, "vertical": "Other", "address": null, "description": null, "about": "Notifications from Acme", "logo": "https://media.doubletick.io/acme/notifications.png"}}, {"channelId": "intg_0000000003", "wabaNumber": "919888888888", "displayName": "Acme Sales", "status": "CONNECTED", "useMetaName": false, "profile": null}]}`, 200,
			func(t *testing.T, c *doubletick.Client) {
				l, _, err := c.Channels.List(ctx, nil)
				require.NoError(t, err)
				assert.Equal(t, 3, l.Count)
				assert.Equal(t, "919777777777", l.Channels[1].WABANumber)
				assert.Equal(t, "", l.Channels[1].Profile.Email)
				assert.Nil(t, l.Channels[2].Profile)
			}},
		{"update-channel-details", `{"status": "SUCCESS", "integrationId": "intg_0000000001", "profile": {"websites": ["https://acme.com"], "email": "support@acme.com", "vertical": "Medical and Health", "address": "1 Market St, San Francisco", "description": "24x7 customer support", "logo": "https://media.doubletick.io/acme/logo.png", "about": "Welcome to Acme", "orgName": "Acme Inc", "displayName": "Acme Support", "useMetaName": false}}`, 200,
			func(t *testing.T, c *doubletick.Client) {
				u, _, err := c.Channels.Update(ctx, &doubletick.UpdateChannelRequest{IntegrationID: "intg_0000000001", About: "x"})
				require.NoError(t, err)
				assert.Equal(t, "Acme Inc", u.Profile.OrgName)
			}},
		{"get-template guide", `[{"id": "template_id", "name": "your_template_name", "language": "en", "category": "MARKETING", "components": [{"type": "HEADER", "format": "TEXT", "text": "Header Content"}, {"type": "BODY", "text": "Body Content with placeholders"}, {"type": "FOOTER", "text": "Footer Content"}], "buttons": [{"type": "QUICK_REPLY", "text": "Button 1"}], "status": "APPROVED", "createdBy": "creator_name", "wabaPhoneNumber": "your_waba_number"}]`, 201,
			func(t *testing.T, c *doubletick.Client) {
				l, _, err := c.Templates.List(ctx, nil)
				require.NoError(t, err)
				assert.Equal(t, doubletick.TemplateID("template_id"), l[0].ID)
				assert.Equal(t, "Button 1", l[0].Buttons[0].Text)
				assert.Equal(t, "TEXT", l[0].Components[0].Format)
			}},
		{"get-templates schema example", `[{"id": 1, "name": "n", "language": "en", "category": "MARKETING", "status": "PENDING", "rejectedReason": "", "createdBy": "Creater_Name", "wabaPhoneNumber": "14155238886", "components": [{"type": "HEADER", "format": "IMAGE", "variables": [{"mediaUrl": "https://placeholder.com/150"}]}, {"type": "BODY", "text": "Hi {{name}}, \r\nWelcome to your shop!\r\nWe have got {{offer_name}} for you", "variables": [{"name": "name"}, {"name": "offer_name"}]}, {"type": "FOOTER", "text": "powered by doubletick.io"}, {"type": "BUTTON", "buttons": [{"type": "QUICK_REPLY", "text": "Interested"}, {"type": "QUICK_REPLY", "text": "Tell me More"}, {"type": "QUICK_REPLY", "text": "Stop"}]}]}]`, 201,
			func(t *testing.T, c *doubletick.Client) {
				l, _, err := c.Templates.List(ctx, nil)
				require.NoError(t, err)
				assert.Equal(t, doubletick.TemplateID("1"), l[0].ID)
				assert.Equal(t, "offer_name", l[0].Components[1].Variables[1].Name)
				assert.Len(t, l[0].Components[3].Buttons, 3)
			}},
		{"create-template", `{"success": true}`, 201, func(t *testing.T, c *doubletick.Client) {
			_, err := c.Templates.Delete(ctx, &doubletick.DeleteTemplateRequest{Name: "n", WABANumber: "14155238886"})
			require.NoError(t, err)
		}},
		{"get-customer-details", `{"customer": {"id": "customer_xxx", "name": "customername1", "phone": "+919999999999", "tags": ["tag1", "tag2"], "customFields": [{"id": "", "name": "<string>", "value": "<string>", "type ": "<string>"}], "assignedToUser": "<string>", "assignedUserNumber": "<string>"}}`, 200,
			func(t *testing.T, c *doubletick.Client) {
				cu, _, err := c.Customers.Get(ctx, &doubletick.GetCustomerRequest{PhoneNumber: "919999999999"})
				require.NoError(t, err)
				assert.Equal(t, []string{"tag1", "tag2"}, cu.Tags)
				assert.Equal(t, "<string>", cu.CustomFields[0].Type, `the page's "type " key`)
			}},
		{"get-customer-details guide", `{"customer": {"name": "customer_name", "assignedToUser": "client_name", "phone": "customer_phone_number", "assignedUserNumber": "client_phone_number", "customFields": [{"id": "custom_field_id", "name": "message", "value": "2025-01-21T09:16:18.000Z", "type": "date"}, {"id": "custom_field_id", "name": "message", "value": "2025-01-21T09:17:20.000Z", "type": "date"}]}}`, 201,
			func(t *testing.T, c *doubletick.Client) {
				cu, _, err := c.Customers.Get(ctx, &doubletick.GetCustomerRequest{PhoneNumber: "919999999999"})
				require.NoError(t, err)
				assert.Equal(t, "date", cu.CustomFields[1].Type)
				assert.Equal(t, "client_name", cu.AssignedToUser)
			}},
		{"customer-assign-tags-custom-fields", `{"tags": {"added": ["tag name"], "errored": [{"tag": "tag name 2", "error": "error message"}]}, "customFields": {"added": ["custom field name"], "errored": [{"customField": "custom field name 2", "error": "error message"}]}, "customerId": "customer_xxx"}`, 201,
			func(t *testing.T, c *doubletick.Client) {
				r, _, err := c.Customers.AssignTags(ctx, &doubletick.AssignCustomerTagsRequest{Phone: "919999999999"})
				require.NoError(t, err)
				assert.Equal(t, "customer_xxx", r.CustomerID)
				assert.Equal(t, "tag name 2", r.Tags.Errored[0].Tag)
				assert.Equal(t, "custom field name 2", r.CustomFields.Errored[0].CustomField)
			}},
		{"customer-remove-tags-custom-fields guide", `{"customFields": {"removed": ["new field1", "new field"], "errored": []}, "tags": {"removed": ["team lead", "team member"], "errored": []}}`, 201,
			func(t *testing.T, c *doubletick.Client) {
				r, _, err := c.Customers.RemoveTags(ctx, &doubletick.RemoveCustomerTagsRequest{Phone: "919999999999", Tags: []string{"team lead"}})
				require.NoError(t, err)
				assert.Equal(t, []string{"team lead", "team member"}, r.Tags.Removed)
			}},
		{"customer-remove-tags-custom-fields schema", `{"tags": {"added": ["team lead"], "errored": []}, "customFields": {"added": [], "errored": []}}`, 201,
			func(t *testing.T, c *doubletick.Client) {
				r, _, err := c.Customers.RemoveTags(ctx, &doubletick.RemoveCustomerTagsRequest{Phone: "919999999999", Tags: []string{"team lead"}})
				require.NoError(t, err)
				assert.Equal(t, []string{"team lead"}, r.Tags.Removed, `the schema's "added" read as removed`)
				assert.Empty(t, r.Tags.Added)
			}},
		{"delete-customer", `{"message": "Your request has been queued for deletion.", "notFoundPhoneNumbers": ["919876500000"]}`, 201,
			func(t *testing.T, c *doubletick.Client) {
				r, _, err := c.Customers.Delete(ctx, &doubletick.DeleteCustomersRequest{PhoneNumbers: []string{"919876543210", "919876500000"}})
				require.NoError(t, err)
				assert.Equal(t, []string{"919876500000"}, r.NotFoundPhoneNumbers)
			}},
		{"assign-team-member-to-customer", ``, 201, func(t *testing.T, c *doubletick.Client) {
			a, _, err := c.Customers.Assign(ctx, &doubletick.AssignCustomerRequest{CustomerPhoneNumber: "917838849957", AssignedUserPhoneNumber: "919000000001", WABANumber: "919876543210"})
			require.NoError(t, err, "201 without content")
			assert.Empty(t, a.Name)
		}},
		{"assign-team-member-to-customer guide", `{"name": "agent_name", "email": "agent_email_address", "phone": "agent_number"}`, 201,
			func(t *testing.T, c *doubletick.Client) {
				a, _, err := c.Customers.Assign(ctx, &doubletick.AssignCustomerRequest{CustomerPhoneNumber: "917838849957", AssignedUserPhoneNumber: "919000000001", WABANumber: "919876543210"})
				require.NoError(t, err)
				assert.Equal(t, "agent_name", a.Name)
			}},
		{"block-unblock-customer", `{}`, 201, func(t *testing.T, c *doubletick.Client) {
			_, err := c.Customers.CreateBlock(ctx, "+919999999999")
			require.NoError(t, err)
		}},
		{"get-team guide", `{"data": [{"id": "user_id", "name": "agent_name", "phone": "agent_number", "email": "agent_email_address", "joinDate": "2024-11-26T11:02:31.855Z", "reportingManager": [{"id": "manager_id", "name": "manager_name", "phone": "manager_number", "email": "manager_email", "joinDate": "2023-08-25T13:14:26.037Z"}], "orgRoleName": "TEAM_LEAD", "orgRoleId": "organization_role_id", "isOrganizationOwner": false}]}`, 201,
			func(t *testing.T, c *doubletick.Client) {
				l, _, err := c.Team.List(ctx)
				require.NoError(t, err)
				assert.Equal(t, "manager_name", l[0].ReportingManager[0].Name)
				assert.Equal(t, 2024, l[0].JoinDate.Year())
			}},
		{"get-team-member-details guide", `{"id": "agnet_id", "name": "agent_name", "phone": "agent_number", "email": null, "joinDate": "2025-02-14T04:35:15.535Z", "orgRoleId": "organization_role_id", "orgRoleName": "OWNER", "wabaRoles": [{"wabaName": "WhatsApp Business Name", "wabaNumber": "WhatsApp API Number", "roleName": "OWNER"}], "isOrganizationOwner": false, "reportingManager": [{"id": "reporting_manager_id", "name": "reporting_manager_name", "email": "reporting_manager_email", "phone": "reporting_manager_number", "joinDate": "2023-08-25T13:14:26.037Z"}]}`, 201,
			func(t *testing.T, c *doubletick.Client) {
				m, _, err := c.Team.Get(ctx, "919999999999")
				require.NoError(t, err)
				assert.Empty(t, m.Email, "null")
				assert.Equal(t, "OWNER", m.WABARoles[0].RoleName)
			}},
		{"get-all-roles guide", `[{"id": "role_id", "name": "role_name", "title": "role_title", "description": "role_description", "isCustomRole": false, "type": "ROLE_TYPE", "permissions": [{"id": "permissions_related_to_roles", "name": "permission_name", "description": "permission_description"}, {"id": "permissions_related_to_roles", "name": "permission_name", "description": "permission_description"}]}]`, 201,
			func(t *testing.T, c *doubletick.Client) {
				r, _, err := c.Team.ListRoles(ctx)
				require.NoError(t, err)
				assert.Equal(t, "role_title", r[0].Title)
				assert.Len(t, r[0].Permissions, 2)
			}},
		{"create-note", `{"id": "uuid-v4", "note": "Spoke with customer, follow-up demo scheduled for tomorrow.", "createdBy": "Mitul Varshney", "updatedBy": "Mitul Varshney", "dateCreated": "2026-02-06T11:55:03.170Z", "dateUpdated": "2026-02-06T11:55:03.170Z"}`, 201,
			func(t *testing.T, c *doubletick.Client) {
				n, _, err := c.Notes.Create(ctx, &doubletick.CreateNoteRequest{NoteChat: doubletick.NoteChat{GroupID: "grp_AbCdEf1234"}, Note: "n"})
				require.NoError(t, err)
				assert.Equal(t, "Mitul Varshney", n.CreatedBy)
				assert.Equal(t, 170, n.DateCreated.Nanosecond()/1e6)
			}},
		{"list-notes", `{"notes": [{"id": "uuid-v4", "note": "n", "createdBy": "Mitul Varshney", "updatedBy": "Mitul Varshney", "dateCreated": "2026-02-06T11:55:03.170Z", "dateUpdated": "2026-02-06T11:55:03.170Z"}], "hasMore": true, "lastNoteId": "uuid-v4", "lastNoteDate": "2026-01-28T10:23:45.123Z", "totalCount": 42}`, 200,
			func(t *testing.T, c *doubletick.Client) {
				p, _, err := c.Notes.List(ctx, &doubletick.ListNotesRequest{NoteChat: doubletick.NoteChat{GroupID: "grp_AbCdEf1234"}})
				require.NoError(t, err)
				assert.Equal(t, 42, p.TotalCount)
				assert.Equal(t, "uuid-v4", p.LastNoteID)
				assert.True(t, p.HasMore)
			}},
		{"list-notes, last page", `{"notes": [], "hasMore": false, "lastNoteId": null, "lastNoteDate": null, "totalCount": 0}`, 200,
			func(t *testing.T, c *doubletick.Client) {
				p, _, err := c.Notes.List(ctx, &doubletick.ListNotesRequest{NoteChat: doubletick.NoteChat{GroupID: "grp_AbCdEf1234"}})
				require.NoError(t, err)
				assert.True(t, p.LastNoteDate.IsZero())
			}},
		{"delete-note", `{}`, 201, func(t *testing.T, c *doubletick.Client) {
			_, err := c.Notes.Delete(ctx, "uuid-v4")
			require.NoError(t, err)
		}},
		{"assign-team-member-to-chat guide", `{"name": "assigned_agent_name", "email": "agent_email_address", "phone": "agent_number"}`, 201,
			func(t *testing.T, c *doubletick.Client) {
				a, _, err := c.Chats.Assign(ctx, &doubletick.AssignChatRequest{ChatRef: doubletick.ChatRef{GroupID: "grp_1234"}, AssignedUserPhoneNumber: "919999999999"})
				require.NoError(t, err)
				assert.Equal(t, "assigned_agent_name", a.Name)
			}},
		{"unassign-team-member-from-chat", `{"success": "true"}`, 201, func(t *testing.T, c *doubletick.Client) {
			_, err := c.Chats.RemoveAssignment(ctx, &doubletick.RemoveChatAssignmentRequest{ChatRef: doubletick.ChatRef{GroupID: "grp_1234"}})
			require.NoError(t, err, `"true", the page's example`)
		}},
		{"unassign-team-member-from-chat guide", `{"success": true}`, 201, func(t *testing.T, c *doubletick.Client) {
			_, err := c.Chats.RemoveAssignment(ctx, &doubletick.RemoveChatAssignmentRequest{ChatRef: doubletick.ChatRef{GroupID: "grp_1234"}})
			require.NoError(t, err)
		}},
	}
	for _, s := range samples {
		t.Run(s.name, func(t *testing.T) {
			s.check(t, newTestClient(t, respond(s.status, s.body)))
		})
	}
}

// An answer documented as {} and described as an "Empty response body" is
// read in either form: deregister's, delete-note's, block's.
func TestEmptyObjectAnswersMayHaveNoBody(t *testing.T) {
	ctx := context.Background()
	for _, body := range []string{`{}`, ``} {
		c := newTestClient(t, respond(201, body))
		_, err := c.Webhooks.Deregister(ctx, "wh_1")
		require.NoError(t, err, "deregister, body %q", body)
		_, err = c.Notes.Delete(ctx, "uuid-v4")
		require.NoError(t, err, "delete-note, body %q", body)
		_, err = c.Customers.CreateBlock(ctx, "+919999999999")
		require.NoError(t, err, "block, body %q", body)
	}
}
