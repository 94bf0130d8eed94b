package doubletick_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/webhooks"
)

func ExampleMessagesService_SendText() {
	srv, c := exampleServer()
	defer srv.Close()

	res, _, err := c.Messages.SendText(context.Background(), &doubletick.TextMessage{
		Target: doubletick.Target{GroupID: "vip"}, // or To: "+919999999999"; exactly one
		Text:   "Welcome to the VIP group!",
	})
	if err != nil {
		log.Fatal(err)
	}
	// The SDK made the message's ID; keep it to look the message up later.
	fmt.Println(res.Status, res.Recipient, len(res.MessageID))
	fmt.Println(srv.Sent()[0].Type, srv.Sent()[0].GroupID)
	// Output:
	// SENT vip 36
	// text vip
}

func ExampleMessagesService_UploadMedia() {
	srv, c := exampleServer()
	defer srv.Close()
	ctx := context.Background()

	// The file is streamed as it is sent, never held in memory.
	pdf := strings.NewReader("%PDF-1.7 ...")
	up, _, err := c.Messages.UploadMedia(ctx, &doubletick.MediaFile{Name: "terms.pdf", Size: int64(pdf.Len()), Body: pdf})
	if err != nil {
		log.Fatal(err)
	}
	_, _, err = c.Messages.SendDocument(ctx, &doubletick.DocumentMessage{
		MediaMessage: doubletick.MediaMessage{Target: doubletick.Target{GroupID: "vip"}, MediaURL: up.MediaURL, Caption: "Our terms"},
		Filename:     "terms.pdf",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(up.ExpiresIn, srv.Sent()[0].Type)
	// Output: 86400 document
}

func ExampleMessagesService_SendTemplate() {
	srv, c := exampleServer()
	defer srv.Close()

	results, _, err := c.Messages.SendTemplate(context.Background(), &doubletick.SendTemplateRequest{
		Messages: []doubletick.TemplateMessage{{
			Target: doubletick.Target{GroupID: "vip"},
			Content: doubletick.TemplateContent{
				TemplateName: "order_confirmation",
				Language:     "en",
				TemplateData: &doubletick.TemplateData{Body: &doubletick.TemplateBody{Placeholders: []string{"Asha", "#1234"}}},
			},
			CustomData: map[string]string{"orderId": "1234"},
		}},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(results), results[0].Status)
	// Output: 1 SENT
}

func ExampleMessagesService_GetStatus() {
	srv, c := exampleServer()
	defer srv.Close()
	ctx := context.Background()

	sent, _, err := c.Messages.SendText(ctx, &doubletick.TextMessage{Target: doubletick.Target{GroupID: "vip"}, Text: "hi"})
	if err != nil {
		log.Fatal(err)
	}
	// DoubleTick allows one status read per second: a Client from NewClient
	// paces this route to that by default (the fake's Client does not).
	st, _, err := c.Messages.GetStatus(ctx, sent.MessageID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(st.MessageID == sent.MessageID, !st.SentAt.IsZero(), st.ReadAt.IsZero())
	// Output: true true true
}

func ExampleWebhooksService_Register() {
	srv, c := exampleServer()
	defer srv.Close()
	ctx := context.Background()

	// One Authorization configures both ends: DoubleTick sends it with every
	// delivery, and the receiver checks it.
	auth := &webhooks.Authorization{Type: webhooks.AuthorizationBearer, Payload: "a-long-random-token"}
	verifier, err := auth.Verifier()
	if err != nil {
		log.Fatal(err)
	}
	_ = verifier // webhooks.NewHandler(verifier, ...) serves the URL below

	res, _, err := c.Webhooks.Register(ctx, &doubletick.WebhookRegistration{
		URL:           "https://crm.example.com/doubletick/webhooks",
		Name:          "crm",
		Events:        []doubletick.WebhookEvent{doubletick.EventMessageStatusUpdate},
		WABANumbers:   []string{"+911111111111"},
		Authorization: auth,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(res.ValidWebhooks), len(res.InvalidWebhooks))

	// Registration returns no ID; the list does.
	list, _, err := c.Webhooks.List(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(list[0].Name, list[0].EventTypes)
	if _, err := c.Webhooks.Deregister(ctx, list[0].WebhookID); err != nil {
		log.Fatal(err)
	}
	// Output:
	// 1 0
	// crm [MESSAGE_STATUS_UPDATE]
}
