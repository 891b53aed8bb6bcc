import Testing
@testable import DNSFlowCore
