import XCTest
final class PlaceholderTopologyDSLTests: XCTestCase { func testNothing() {} }
