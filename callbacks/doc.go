// Package callbacks owns the HTTP calls the router makes to services: the
// ticket validation, the authorizer and every subscription callback
// (SPEC section 4). A Client POSTs a JSON body, classifies the reply by
// status, retries transport errors, timeouts, 5xx and 429 within the
// configured tries, caps the requests in flight, and always hands back an
// Answer, "Service unavailable." when the service could not be reached.
package callbacks
