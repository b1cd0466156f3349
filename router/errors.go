package router

// Error texts sent to clients. They are part of the wire contract
// (SPEC.md section 3) and must not change.
const (
	errBadFrame          = "Messages must be JSON and contain an event field."
	errEventNotFound     = "Event not found."
	errRateLimited       = "Rate limit exceeded."
	errAuthUnsupported   = "Authentication method unsupported."
	errTicketMissing     = "Must specify ticket."
	errAuthFailed        = "Authentication failed."
	errInvalidFormat     = "Invalid subscription format."
	errInvalidService    = "Invalid service."
	errAuthRequired      = "Authentication required."
	errAlreadySubscribed = "Already subscribed."
	errTooManySubs       = "Too many subscriptions."
	errUnauthorized      = "Unauthorized."
	errUnhandled         = "Unhandled exception."
	errNoSubscription    = "Subscription does not exist."
	errServiceRemoved    = "Service removed."
	errUnsubscribedByAPI = "Unsubscribed by the service."
	errUnavailable       = "Service unavailable."
	errAuthExpired       = "Authentication expired."
)

// maxEventName is the longest accepted event name, in characters.
const maxEventName = 40

// maxPingData is how many characters of a ping's data the pong echoes.
const maxPingData = 128
