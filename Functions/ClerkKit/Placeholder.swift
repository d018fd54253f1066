public enum ClerkKitPlaceholder {}
