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
	// The fake reports a message delivered and read at once (see
	// doubleticktest.WithMessageStatusDelays), and sends the same as
	// MESSAGE_STATUS_UPDATE webhooks.
	fmt.Println(st.MessageID == sent.MessageID, !st.SentAt.IsZero(), !st.ReadAt.IsZero())
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
		Events:        []webhooks.Type{webhooks.TypeMessageStatusUpdate},
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

func ExampleMessagesService_SendImage() {
	srv, c := exampleServer()
	defer srv.Close()

	_, _, err := c.Messages.SendImage(context.Background(), &doubletick.MediaMessage{
		Target:   doubletick.Target{GroupID: "vip"},
		MediaURL: "https://cdn.example.com/welcome.png", // publicly reachable; or UploadMedia's URL
		Caption:  "Welcome!",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(srv.Sent()[0].Type, string(srv.Sent()[0].Content))
	// Output: image {"mediaUrl":"https://cdn.example.com/welcome.png","caption":"Welcome!"}
}

func ExampleMessagesService_SendVideo() {
	srv, c := exampleServer()
	defer srv.Close()

	_, _, err := c.Messages.SendVideo(context.Background(), &doubletick.MediaMessage{
		Target:   doubletick.Target{GroupID: "vip"},
		MediaURL: "https://cdn.example.com/tour.mp4",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(srv.Sent()[0].Type, srv.Sent()[0].GroupID)
	// Output: video vip
}

func ExampleMessagesService_SendAudio() {
	srv, c := exampleServer()
	defer srv.Close()

	_, _, err := c.Messages.SendAudio(context.Background(), &doubletick.MediaMessage{
		Target:   doubletick.Target{To: "+919999999999"}, // a phone, not a group
		MediaURL: "https://cdn.example.com/greeting.mp3",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(srv.Sent()[0].Type, srv.Sent()[0].To)
	// Output: audio +919999999999
}

func ExampleMessagesService_SendDocument() {
	srv, c := exampleServer()
	defer srv.Close()

	_, _, err := c.Messages.SendDocument(context.Background(), &doubletick.DocumentMessage{
		MediaMessage: doubletick.MediaMessage{Target: doubletick.Target{GroupID: "vip"}, MediaURL: "https://cdn.example.com/invoice-1234.pdf"},
		Filename:     "invoice-1234.pdf", // the name the group sees
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(srv.Sent()[0].Type, string(srv.Sent()[0].Content))
	// Output: document {"mediaUrl":"https://cdn.example.com/invoice-1234.pdf","filename":"invoice-1234.pdf"}
}

func ExampleMessagesService_SendLocation() {
	srv, c := exampleServer()
	defer srv.Close()

	_, _, err := c.Messages.SendLocation(context.Background(), &doubletick.LocationMessage{
		Target:   doubletick.Target{GroupID: "vip"},
		Latitude: 19.0825, Longitude: 72.7164,
		Name: "Office", Address: "Bandra West, Mumbai",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(srv.Sent()[0].Type, string(srv.Sent()[0].Content))
	// Output: location {"latitude":19.0825,"longitude":72.7164,"name":"Office","address":"Bandra West, Mumbai"}
}

func ExampleMessagesService_SendTemplateV2() {
	srv, c := exampleServer()
	defer srv.Close()

	res, _, err := c.Messages.SendTemplateV2(context.Background(), &doubletick.SendTemplateV2Request{
		Messages: []doubletick.TemplateMessageV2{{
			Target: doubletick.Target{GroupID: "vip"},
			Content: doubletick.TemplateContentV2{
				TemplateName: "order_update",
				Language:     "en",
				TemplateData: &doubletick.TemplateDataV2{
					Header: &doubletick.TemplateHeaderV2{Type: "IMAGE", MediaURL: "https://cdn.example.com/order.png"},
					Body:   &doubletick.TemplateBodyV2{Placeholders: []map[string]string{{"name": "Asha"}, {"order": "#1234"}}},
				},
			},
		}},
	})
	if err != nil {
		log.Fatal(err)
	}
	// v2 sends take no messageId: the answer gives each message one.
	fmt.Println(len(res.Messages), res.Messages[0].Status, res.Messages[0].Recipient, len(res.Messages[0].MessageID))
	// Output: 1 SENT vip 36
}

func ExampleWebhooksService_Update() {
	srv, c := exampleServer()
	defer srv.Close()
	ctx := context.Background()

	reg := &doubletick.WebhookRegistration{
		URL: "https://crm.example.com/doubletick/webhooks", Name: "crm",
		Events:      []webhooks.Type{webhooks.TypeMessageStatusUpdate},
		WABANumbers: []string{"+911111111111"},
	}
	if _, _, err := c.Webhooks.Register(ctx, reg); err != nil {
		log.Fatal(err)
	}
	list, _, err := c.Webhooks.List(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	// An update sends the whole registration: DoubleTick does not document
	// whether it merges.
	reg.Events = append(reg.Events, webhooks.TypeMessageReceived)
	if _, _, err := c.Webhooks.Update(ctx, list[0].WebhookID, reg); err != nil {
		log.Fatal(err)
	}
	list, _, err = c.Webhooks.List(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(list[0].EventTypes)
	// Output: [MESSAGE_STATUS_UPDATE MESSAGE_RECEIVED]
}

func ExampleWebhooksService_List() {
	srv, c := exampleServer()
	defer srv.Close()
	ctx := context.Background()

	for _, name := range []string{"crm", "analytics"} {
		_, _, err := c.Webhooks.Register(ctx, &doubletick.WebhookRegistration{
			URL: "https://" + name + ".example.com/hooks", Name: name,
			Events:      []webhooks.Type{webhooks.TypeMessageReceived},
			WABANumbers: []string{"+911111111111"},
		})
		if err != nil {
			log.Fatal(err)
		}
	}
	list, _, err := c.Webhooks.List(ctx, &doubletick.ListWebhooksOptions{SortBy: "name", SortDirection: "ASC"})
	if err != nil {
		log.Fatal(err)
	}
	for _, w := range list {
		fmt.Println(w.Name, w.URL)
	}
	// Output:
	// analytics https://analytics.example.com/hooks
	// crm https://crm.example.com/hooks
}

func ExampleWebhooksService_Deregister() {
	srv, c := exampleServer()
	defer srv.Close()
	ctx := context.Background()

	_, _, err := c.Webhooks.Register(ctx, &doubletick.WebhookRegistration{
		URL: "https://crm.example.com/hooks", Name: "crm",
		Events:      []webhooks.Type{webhooks.TypeMessageReceived},
		WABANumbers: []string{"+911111111111"},
	})
	if err != nil {
		log.Fatal(err)
	}
	list, _, err := c.Webhooks.List(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.Webhooks.Deregister(ctx, list[0].WebhookID); err != nil {
		log.Fatal(err)
	}
	list, _, err = c.Webhooks.List(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(list))
	// Output: 0
}
